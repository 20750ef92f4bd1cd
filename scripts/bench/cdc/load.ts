import { connect, transactions, type SqlConn } from './sql-client.ts';

/** A deterministic PRNG (mulberry32): the same seed gives the same ids, so runs are repeatable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface UpdateLoad {
  url: string;
  /** Engine-quoted table name. */
  table: string;
  /** Ids are drawn uniformly from 1..rows. */
  rows: number;
  writers: number;
  seed: number;
  /** Stop after this many updates... */
  count?: number;
  /** ...or after this many seconds. */
  seconds?: number;
  /** Updates per second across all writers; unset = as fast as the server takes them. */
  rate?: number;
}

export interface LoadResult {
  updates: number;
  seconds: number;
  rate: number;
  /** Updates completed in each whole second (steady load: did the source keep the rate?). */
  perSecond: number[];
}

/**
 * sysbench oltp_update_index: `UPDATE t SET k=k+1 WHERE id=?` with random ids, every update its own
 * transaction, from `writers` connections. Updates are issued in small groups per round trip (each still its
 * own transaction) so the client is not the bottleneck; with `rate` the groups are paced against the clock so
 * that the total never runs ahead of rate x elapsed.
 */
export async function runUpdates(o: UpdateLoad): Promise<LoadResult> {
  const conns = await Promise.all(Array.from({ length: o.writers }, () => connect(o.url)));
  const rand = prng(o.seed);
  const maxGroup = o.rate ? Math.max(1, Math.min(20, Math.ceil(o.rate / 1000))) : 50;
  const perSecond: number[] = [];
  let issued = 0;
  let done = 0;
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const over = () => (o.count !== undefined && issued >= o.count) || (o.seconds !== undefined && elapsed() >= o.seconds);
  const writer = async (c: SqlConn) => {
    while (!over()) {
      let n = maxGroup;
      if (o.count !== undefined) n = Math.min(n, o.count - issued);
      if (o.rate) {
        const due = Math.floor(o.rate * elapsed()) - issued;
        if (due <= 0) {
          await new Promise((r) => setTimeout(r, Math.max(1, ((issued + 1) / o.rate! - elapsed()) * 1000)));
          continue;
        }
        n = Math.min(n, due);
      }
      issued += n;
      const stmts = Array.from({ length: n }, () => `UPDATE ${o.table} SET k=k+1 WHERE id=${1 + Math.floor(rand() * o.rows)}`);
      await c.query(transactions(c.engine, stmts));
      done += n;
      const sec = Math.floor(elapsed());
      perSecond[sec] = (perSecond[sec] ?? 0) + n;
    }
  };
  try {
    await Promise.all(conns.map(writer));
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
  const seconds = elapsed();
  return { updates: done, seconds, rate: Math.round(done / seconds), perSecond: Array.from(perSecond, (x) => x ?? 0) };
}
