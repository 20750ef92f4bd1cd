/**
 * Consecutive snapshot pages merged into one batch for a writer that wants bigger writes than the source's pages
 * (`TableWriter.batchRows`; ClickHouse: one INSERT is one part). A merged batch is what its pages were, in order:
 * raw pages of one format stay raw (their chunks listed together, nothing copied), decoded pages stay decoded; a
 * page of another kind starts a new batch. `lastKey` is the last page's, so a checkpoint after the merged write
 * resumes exactly after it.
 *
 * Invariant: a merged batch holds at most `maxRows` rows and `maxBytes` bytes, unless one page alone is bigger.
 */
import { batchRows, type RawRows, type RowBatch } from '../core/source.ts';
import type { Row } from '../core/values.ts';

type Bounds = NonNullable<RawRows['bounds']>;

function mergeBounds(a: RawRows['bounds'], b: RawRows['bounds']): RawRows['bounds'] {
  if (!a || !b || a.length !== b.length) return undefined;
  const out: Array<readonly [string, string] | null> = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    out.push(!x ? y : !y ? x : [x[0] < y[0] ? x[0] : y[0], x[1] > y[1] ? x[1] : y[1]]);
  }
  return out as Bounds;
}

const kindOf = (b: RowBatch): string => (b.raw ? `raw:${b.raw.format}` : 'rows');

function merge(pages: RowBatch[]): RowBatch {
  if (pages.length === 1) return pages[0];
  const last = pages[pages.length - 1];
  let bytes = 0;
  for (const p of pages) bytes += p.bytes;
  let rows: Row[] | undefined;
  const batch: RowBatch = {
    get rows(): Row[] {
      return (rows ??= pages.flatMap((p) => p.rows));
    },
    lastKey: last.lastKey,
    bytes,
  };
  const first = pages[0].raw;
  if (first) {
    let count = 0;
    let bounds = first.bounds;
    const chunks: Buffer[] = [];
    for (const p of pages) {
      chunks.push(...p.raw!.chunks);
      count += p.raw!.count;
      if (p !== pages[0]) bounds = mergeBounds(bounds, p.raw!.bounds);
    }
    batch.raw = { format: first.format, chunks, count, bounds };
  }
  return batch;
}

/** `pages` regrouped into batches of up to `maxRows` rows / `maxBytes` bytes (see the module note). */
export async function* mergePages(pages: AsyncIterable<RowBatch>, maxRows: number, maxBytes: number): AsyncGenerator<RowBatch> {
  let group: RowBatch[] = [];
  let rows = 0;
  let bytes = 0;
  for await (const p of pages) {
    const n = batchRows(p);
    if (group.length && (kindOf(p) !== kindOf(group[0]) || rows + n > maxRows || bytes + p.bytes > maxBytes)) {
      yield merge(group);
      group = [];
      rows = 0;
      bytes = 0;
    }
    group.push(p);
    rows += n;
    bytes += p.bytes;
    if (rows >= maxRows) {
      yield merge(group);
      group = [];
      rows = 0;
      bytes = 0;
    }
  }
  if (group.length) yield merge(group);
}
