/**
 * Helpers for the PostgreSQL CDC tests: each test file gets its own database (a FOR ALL TABLES publication
 * makes UPDATE/DELETE on keyless tables fail in its database, so it must not share one with other tests) and
 * uniquely named slots, dropped again afterwards (a leftover slot pins WAL).
 */
import type { EndpointConfig } from '../../lib/config/types.ts';
import type { ChangeEvent, Position, RowChange } from '../../lib/core/change.ts';
import { createPgCdcSource, type PgCdcSource, type PgCdcSourceOptions } from '../../lib/connectors/pg/index.ts';
import { freshDatabase, pgEndpoint, pgExec, testContext, type PgTestDatabase } from '../support/pg.ts';
import { uniqueName } from '../support/services.ts';

export interface CdcDb extends PgTestDatabase {
  /** A new slot name, used by the following endpoint()/source() calls; dropped at cleanup. */
  slot(): string;
  endpoint(raw?: Record<string, string>, extra?: Partial<EndpointConfig>): EndpointConfig;
  source(raw?: Record<string, string>, tuning?: Partial<PgCdcSourceOptions>, tables?: Array<{ db: string; tb: string }>): Promise<PgCdcSource>;
  cleanup(): Promise<void>;
}

export async function cdcDatabase(prefix: string): Promise<CdcDb> {
  const db = await freshDatabase(prefix);
  let current = '';
  const self: CdcDb = {
    ...db,
    slot() {
      current = uniqueName(`${prefix}_slot`);
      return current;
    },
    endpoint(raw = {}, extra = {}) {
      return pgEndpoint({ url: db.url, raw: { slot_name: current || self.slot(), ...raw }, ...extra });
    },
    async source(raw = {}, tuning = {}, tables) {
      return createPgCdcSource(self.endpoint(raw), testContext(), tables ? { tables } : {}, tuning);
    },
    async cleanup() {
      await pgExec(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`, [db.name]);
      await eventually(async () => (await pgExec<{ n: string }>(`SELECT count(*) n FROM pg_replication_slots WHERE database = $1 AND active`, [db.name]))[0].n === '0', 5000, 'slots released');
      await pgExec(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, [db.name]);
      await db.drop();
    },
  };
  return self;
}

export const never = new AbortController().signal;

export interface Collected {
  events: ChangeEvent[];
  batches: number;
}

/**
 * Streams from `from` until `done(events)` holds, then stops the stream (by leaving the loop, as a consumer
 * does). Rejects after `timeoutMs`. `ack` acknowledges each batch's last CommitMark.
 */
export async function collect(
  source: PgCdcSource,
  from: Position,
  done: (events: ChangeEvent[]) => boolean,
  o: { timeoutMs?: number; ack?: boolean; signal?: AbortSignal } = {},
): Promise<Collected> {
  const events: ChangeEvent[] = [];
  let batches = 0;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(new Error('timeout')), o.timeoutMs ?? 20_000);
  const signal = o.signal ? AbortSignal.any([o.signal, ctrl.signal]) : ctrl.signal;
  try {
    for await (const batch of source.stream(from, signal)) {
      batches++;
      events.push(...batch);
      if (o.ack) {
        const last = [...batch].reverse().find((e) => e.kind === 'commit');
        if (last) await source.ack(last.position, never);
      }
      if (done(events)) return { events, batches };
    }
  } finally {
    clearTimeout(timer);
  }
  if (done(events)) return { events, batches };
  throw new Error(`stream ended before the expected events arrived (${events.length} events: ${summary(events)})`);
}

export const rowsOf = (events: ChangeEvent[]): RowChange[] => events.filter((e): e is RowChange => e.kind === 'row');
export const commitsOf = (events: ChangeEvent[]) => events.filter((e) => e.kind === 'commit');
export const commitCount = (n: number) => (events: ChangeEvent[]) => commitsOf(events).length >= n;

export function summary(events: ChangeEvent[]): string {
  return events
    .map((e) => (e.kind === 'row' ? `${e.op}:${e.table.tb}` : e.kind))
    .slice(0, 40)
    .join(' ');
}

export async function slotState(slot: string): Promise<{ confirmed: string | null; active: boolean; pid: number | null } | null> {
  const r = await pgExec<{ c: string | null; a: boolean; p: number | null }>(
    `SELECT confirmed_flush_lsn::text c, active a, active_pid p FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  return r.length ? { confirmed: r[0].c, active: r[0].a, pid: r[0].p } : null;
}

/** Waits until `check` returns true (polling), or fails after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
