import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { FerryError } from '../core/errors.ts';

/**
 * File-system steps of the file store. Invariant: a record file is only ever replaced by `rename` of a fully
 * written and fsynced temp file, and the directory is fsynced after, so a reader sees the old or the new
 * record, never a torn one, and an acknowledged write survives a crash of the machine.
 */

/** Wraps a file-system failure as CP003 (retryable) naming the key and the operation. */
export function ioError(e: unknown, op: string, key: string): FerryError {
  if (e instanceof FerryError) return e;
  const err = e as NodeJS.ErrnoException;
  return new FerryError('CP003', `checkpoint: file store ${op} of "${key}" failed: ${err.code ?? ''} ${err.message ?? String(e)}`.trim(), {
    cause: e,
    details: { key, op, errno: err.code },
  });
}

/** Reads and validates a record; undefined when the file does not exist. Corrupt content is CP003. */
export async function readRecord<S extends z.ZodTypeAny>(file: string, schema: S, key: string): Promise<z.infer<S> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(e, 'read', key);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new FerryError('CP003', `checkpoint: record file of "${key}" is not valid JSON (${file})`, { cause: e, details: { key, file } });
  }
  const r = schema.safeParse(parsed);
  if (!r.success) {
    throw new FerryError('CP003', `checkpoint: record file of "${key}" has an unexpected shape (${file}): ${r.error.issues[0]?.message}`, {
      details: { key, file },
    });
  }
  return r.data;
}

/** Creates `dir` and its missing parents, fsyncing each new entry's parent so the path survives a crash. */
export async function ensureDir(dir: string, key: string): Promise<void> {
  let first: string | undefined;
  try {
    first = await mkdir(dir, { recursive: true });
  } catch (e) {
    throw ioError(e, 'mkdir', key);
  }
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
  }
}

/**
 * Writes `text` to `tmpBase<unique>`, fsyncs it, calls `beforeCommit` (the lock check), renames it over
 * `file` and fsyncs the directory. The temp file is removed on any failure before the rename.
 */
export async function atomicReplace(file: string, tmpBase: string, text: string, key: string, beforeCommit: () => Promise<void>): Promise<void> {
  const tmp = `${tmpBase}${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await beforeCommit();
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw ioError(e, 'write', key);
  }
  await fsyncDir(dirname(file));
}

/** Removes `file` (absent is fine) and fsyncs its directory so the delete is durable. */
export async function removeFile(file: string, key: string): Promise<void> {
  try {
    await unlink(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError(e, 'delete', key);
  }
  await fsyncDir(dirname(file));
}

/** fsync of a directory entry list; skipped where the platform cannot open directories (Windows). */
async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR') throw ioError(e, 'fsync', dir);
  } finally {
    await fh.close();
  }
}
