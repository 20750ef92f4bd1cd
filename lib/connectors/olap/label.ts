/**
 * Stream Load labels. A label is unique per database on the server for days (label_keep_max_second), and a
 * second load under a committed label is refused with "Label Already Exists": that is what makes a retried
 * body idempotent.
 *
 * - Snapshot: `{prefix}_s_{sha256(db, tb, columns, body)}`. The chunk runner cuts a chunk into the same
 *   batches on every run from the same resume key, so a retry or a rerun of a batch already loaded is
 *   deduplicated by the server; a batch whose rows changed at the source has another label and is loaded
 *   (upsert by key). Identical content under one label means skipping it leaves the target as loading it would.
 * - CDC: `{prefix}_c_{sha256(applier id, apply sequence, part, db, tb, body)}`. The same change text may
 *   legitimately come back later (x=1, x=2, x=1), so content alone must not dedupe; the applier's random id
 *   and its count of committed applies make the label unique per apply, while a retry of a failed apply (same
 *   changes, same sequence number) reuses it.
 *
 * Labels are 1-128 characters of [A-Za-z0-9_-] on both engines; these are at most 40 + 3 + 48.
 */
import { createHash } from 'node:crypto';

const digest = (parts: Array<string | Buffer>): string => {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(typeof p === 'string' ? p : p);
    h.update('\u0000');
  }
  return h.digest('hex').slice(0, 48);
};

export function snapshotLabel(prefix: string, db: string, tb: string, columns: string[], body: Buffer): string {
  return `${prefix}_s_${digest([db, tb, columns.join('\u0001'), body])}`;
}

export function cdcLabel(prefix: string, applierId: string, seq: number, part: number, db: string, tb: string, body: Buffer): string {
  return `${prefix}_c_${digest([applierId, String(seq), String(part), db, tb, body])}`;
}
