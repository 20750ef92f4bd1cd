import type { DatasetState } from '../snapshot/dataset.ts';
import type { FerryCdcSettings } from './ferry-config.ts';
import type { CdcPathId } from './options.ts';

/** CPU seconds of a phase on the database servers. */
export interface ServerCpu {
  source?: number;
  target?: number;
}

/** A table somewhere: the URL to query it with and its engine-quoted name (plus its marker table's). */
export interface CdcTableAt {
  url: string;
  table: string;
  marker: string;
}

/**
 * One CDC path (source engine -> same engine): where the source and both targets live, how the engine's own
 * replication is set up, started, watched and stopped, and how everything is removed again.
 * Life: prepare -> (ferry records its start) -> markBacklogStart -> backlog -> startNative/.../stopNative ->
 * ferry catch-up, steady load, burst -> cleanup (also on failure; idempotent, never throws).
 */
export interface CdcPath {
  id: CdcPathId;
  label: string;
  engine: 'mysql' | 'pg';
  source: CdcTableAt;
  ferryTarget: CdcTableAt;
  nativeTarget: CdcTableAt;
  nativeName: string;
  /** How the native side is configured (printed with the results). */
  nativeNote: string;
  /** Source table with `rows` rows, both targets identical to it, native replication created but paused. */
  prepare(o: { rows: number; fresh: boolean; peers: boolean; log: (s: string) => void }): Promise<DatasetState>;
  /** The source/target part of ferry's config. */
  ferry(): Pick<FerryCdcSettings, 'source' | 'target' | 'slotName' | 'serverId'>;
  /** Right before the backlog is written (MariaDB: the replica's master position). */
  markBacklogStart(): Promise<void>;
  startNative(): Promise<void>;
  /** Throws when native replication reports an error (called between polls). */
  nativeHealthy(): Promise<void>;
  stopNative(): Promise<void>;
  /**
   * Starts a CPU meter of the server-side work of this path: `source` = what reads the change stream on the
   * source server (walsender / binlog dump thread), `target` = what applies on the target (ferry's sessions,
   * the apply worker / replica threads). Other clients of the shared project servers are left out.
   * `readers`: PIDs of client processes reading the change stream during the phase (ferry), asked at the end.
   */
  meterCpu(readers: () => number[]): Promise<() => Promise<ServerCpu>>;
  cleanup(): Promise<void>;
}
