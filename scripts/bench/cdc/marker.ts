import { connect, type SqlConn } from './sql-client.ts';

/**
 * A one-row table replicated with sbtest1: the bench bumps `seq` on the source and watches for it in a
 * target. Written as the last transaction of a backlog, its arrival means the target has applied everything
 * before it (the checksum then confirms); written every 100 ms during steady load, each arrival gives one
 * end-to-end lag sample.
 */
export const MARKER_TABLE = 'bench_marker';

export const markerDdl = (engine: 'mysql' | 'pg', qualified: string): string =>
  engine === 'mysql'
    ? `CREATE TABLE IF NOT EXISTS ${qualified} (id INT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, ts BIGINT NOT NULL) ENGINE=InnoDB; ` +
      `REPLACE INTO ${qualified} VALUES (1, 0, 0);`
    : `CREATE TABLE IF NOT EXISTS ${qualified} (id INT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, ts BIGINT NOT NULL); ` +
      `INSERT INTO ${qualified} VALUES (1, 0, 0) ON CONFLICT (id) DO UPDATE SET seq = 0, ts = 0;`;

export const bumpMarker = (c: SqlConn, table: string, seq: number): Promise<unknown> =>
  c.query(`UPDATE ${table} SET seq = ${seq}, ts = ${Date.now()} WHERE id = 1`);

export async function readMarker(c: SqlConn, table: string): Promise<number> {
  const [r] = await c.query<{ seq: string | number }>(`SELECT seq FROM ${table} WHERE id = 1`);
  return r ? Number(r.seq) : -1;
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called between polls; throws to abort the wait (the CDC process died, the replica stopped...). */
  healthy?: () => Promise<void> | void;
}

/** Polls a target until its marker reaches `seq`; resolves with performance.now() of the first poll that saw it. */
export async function waitForMarker(url: string, table: string, seq: number, o: WaitOptions): Promise<number> {
  const c = await connect(url);
  const end = performance.now() + o.timeoutMs;
  try {
    for (;;) {
      if ((await readMarker(c, table)) >= seq) return performance.now();
      if (performance.now() > end) throw new Error(`marker ${seq} not seen in ${table} after ${Math.round(o.timeoutMs / 1000)} s`);
      await o.healthy?.();
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 20));
    }
  } finally {
    await c.close();
  }
}

export interface LagSamples {
  /** Milliseconds from issuing a marker update on the source to first seeing it (or a later one) in the target. */
  lagMs: number[];
  /** [seconds since the probe started (issue time), lag ms] per marker: when the slow ones happened. */
  timeline: Array<[number, number]>;
  written: number;
  /** Markers never seen before the probe stopped. */
  unseen: number;
}

/**
 * Every `everyMs` updates the marker on the source (its own transaction) and polls the target every
 * `pollMs`; when the target's seq jumps from a to b, every marker a+1..b gets lag = now - its issue time.
 * Resolution is the poll interval plus one round trip.
 */
export class LagProbe {
  private issued = new Map<number, number>();
  private seen = 0;
  private seq = 0;
  private lags: number[] = [];
  private timeline: Array<[number, number]> = [];
  private readonly t0 = performance.now();
  private stopped = false;
  private error?: Error;
  private loops: Promise<void>[] = [];

  private constructor(
    private src: SqlConn,
    private dst: SqlConn,
    private srcTable: string,
    private dstTable: string,
  ) {}

  static async start(o: { sourceUrl: string; targetUrl: string; sourceTable: string; targetTable: string; startSeq: number; everyMs?: number; pollMs?: number }): Promise<LagProbe> {
    const p = new LagProbe(await connect(o.sourceUrl), await connect(o.targetUrl), o.sourceTable, o.targetTable);
    p.seq = o.startSeq;
    p.seen = o.startSeq;
    // A failing loop (a connection dropped) stops both; stop() reports its error. Never an unhandled rejection.
    p.loops = [p.writeLoop(o.everyMs ?? 100), p.pollLoop(o.pollMs ?? 10)].map((l) =>
      l.catch((e) => {
        p.error ??= e as Error;
        p.stopped = true;
      }),
    );
    return p;
  }

  /** The last seq written (wait for it in the target to drain the pipeline). */
  get lastSeq(): number {
    return this.seq;
  }

  private async writeLoop(everyMs: number): Promise<void> {
    const t0 = performance.now();
    for (let i = 1; !this.stopped; i++) {
      const s = ++this.seq;
      this.issued.set(s, performance.now());
      await bumpMarker(this.src, this.srcTable, s);
      const next = t0 + i * everyMs - performance.now();
      if (next > 0) await new Promise((r) => setTimeout(r, next));
    }
  }

  private async pollLoop(pollMs: number): Promise<void> {
    while (!this.stopped || this.seen < this.seq) {
      const got = await readMarker(this.dst, this.dstTable);
      const now = performance.now();
      for (let s = this.seen + 1; s <= got; s++) {
        const at = this.issued.get(s);
        if (at !== undefined) {
          this.lags.push(now - at);
          this.timeline.push([Math.round((at - this.t0) / 100) / 10, Math.round(now - at)]);
        }
        this.issued.delete(s);
      }
      this.seen = Math.max(this.seen, got);
      if (this.stopped && (this.error || performance.now() - this.stoppedAt > 30_000)) break; // never caught up: reported as unseen
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private stoppedAt = 0;

  /** Stops writing, waits (up to 30 s) for the last marker to arrive, and returns the samples. */
  async stop(): Promise<LagSamples> {
    this.stopped = true;
    this.stoppedAt = performance.now();
    await Promise.all(this.loops);
    await Promise.all([this.src.close(), this.dst.close()]);
    if (this.error) throw this.error;
    return { lagMs: this.lags, timeline: this.timeline, written: this.lags.length + this.issued.size, unseen: this.issued.size };
  }
}

/** The q-th percentile (0..100) by nearest rank. */
export function percentile(xs: number[], q: number): number | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1))];
}
