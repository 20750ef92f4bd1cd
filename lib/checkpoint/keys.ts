import { FerryError } from '../core/errors.ts';

/**
 * The key layout of the checkpoint store. Every task owns the subtree `tasks/<taskId>/`:
 *
 * ```
 * tasks/<taskId>/plan                 the resolved task plan (written once, create-only)
 * tasks/<taskId>/chunks/<chunkId>     progress of one snapshot chunk
 * tasks/<taskId>/cdc/position         the committed CDC position
 * tasks/<taskId>/leases/<role>        lease names (a separate namespace from item keys in every store)
 * ```
 *
 * Invariants: a task id and a role never contain `/` and are never empty, so `taskPrefix(a)` is never a prefix
 * of another task's keys; chunk ids may contain anything but must not be empty. Functions here are pure.
 */

/** Prefix of every key of one task: `tasks/<taskId>/`. Deleting a task = deleting everything listed under it. */
export const taskPrefix = (taskId: string): string => `tasks/${segment(taskId, 'taskId')}/`;

/** The resolved plan: `tasks/<taskId>/plan`. */
export const planKey = (taskId: string): string => `${taskPrefix(taskId)}plan`;

/** Prefix listing every chunk of a task: `tasks/<taskId>/chunks/`. */
export const chunkPrefix = (taskId: string): string => `${taskPrefix(taskId)}chunks/`;

/** One chunk's progress: `tasks/<taskId>/chunks/<chunkId>` (the chunk id is kept verbatim). */
export const chunkKey = (taskId: string, chunkId: string): string => {
  if (chunkId === '') throw new FerryError('RT002', 'checkpoint key: chunkId must not be empty');
  return `${chunkPrefix(taskId)}${chunkId}`;
};

/** The committed CDC position: `tasks/<taskId>/cdc/position`. */
export const cdcPositionKey = (taskId: string): string => `${taskPrefix(taskId)}cdc/position`;

/** Lease name for a role of a task (e.g. `cdc`, `finalize`): `tasks/<taskId>/leases/<role>`. */
export const leaseName = (taskId: string, role: string): string => `${taskPrefix(taskId)}leases/${segment(role, 'role')}`;

/**
 * The order `list()` returns keys in, for every store: UTF-8 byte order, which is what DynamoDB sort keys and
 * S3 listings give natively (JavaScript's default string order differs above U+FFFF).
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function segment(value: string, what: string): string {
  if (value === '' || value.includes('/')) {
    // A `/` would let one task's prefix cover another's keys (task `a` and task `a/chunks`).
    throw new FerryError('RT002', `checkpoint key: ${what} must be non-empty and contain no "/", got ${JSON.stringify(value)}`);
  }
  return value;
}
