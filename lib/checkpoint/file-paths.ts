import { createHash } from 'node:crypto';
import { join } from 'node:path';

/*
 * How the file store maps keys to paths. A key is split on `/`; every segment becomes a directory except the
 * last, which becomes `<segment>.json` (plus `<segment>.lock` and `<segment>.tmp-*` beside it).
 *
 * Segment encoding, chosen so that:
 * - it is reversible and injective: bytes `[a-z0-9_-]` stay, every other UTF-8 byte becomes `%HH` (upper-case
 *   hex), the empty segment becomes `=`. The output never contains `.`, so `x.json` is never a directory name
 *   and `.`/`..` never appear;
 * - it survives case-insensitive, normalising file systems (macOS): upper-case letters and non-ASCII are
 *   escaped, so two different keys never differ only by case or Unicode normal form on disk;
 * - it is a prefix code: enc(a) is a prefix of enc(b) exactly when a is a byte prefix of b, which lets
 *   `list(prefix)` skip whole directories;
 * - names stay under file-name limits: a segment whose encoding exceeds {@link MAX_ENCODED} characters is
 *   stored as `~<sha256>` instead. Such names are not reversible, which is fine because every record also
 *   stores its full key and readers check it.
 */

/** Longest plainly encoded segment; longer ones are hashed (file names are limited to 255 bytes). */
export const MAX_ENCODED = 200;

const KEEP = /^[a-z0-9_-]$/;

/** Encodes one key segment into a file-name-safe string (see module doc). */
export function encodeSegment(segment: string): string {
  if (segment === '') return '=';
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += KEEP.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out.length > MAX_ENCODED) return `~${createHash('sha256').update(segment, 'utf8').digest('hex')}`;
  return out;
}

/** Inverse of {@link encodeSegment}; undefined for hashed (`~`) names, which cannot be reversed. */
export function decodeSegment(name: string): string | undefined {
  if (name === '=') return '';
  if (name.startsWith('~')) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '%') {
      bytes.push(parseInt(name.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(name.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The files that hold one key (or lease) under `root`. */
export interface KeyPaths {
  dir: string;
  /** The record itself. */
  file: string;
  /** The per-key lock (exists only while a writer holds it). */
  lock: string;
  /** `<tmpBase><unique>` is where a new record is written before the rename. */
  tmpBase: string;
}

/** Paths for `key` under `root`. */
export function keyPaths(root: string, key: string): KeyPaths {
  const segs = key.split('/').map(encodeSegment);
  const base = segs.pop()!;
  const dir = join(root, ...segs);
  return { dir, file: join(dir, `${base}.json`), lock: join(dir, `${base}.lock`), tmpBase: join(dir, `${base}.tmp-`) };
}

/**
 * Where to start walking for `list(prefix)`: the directory of the prefix's complete segments, and a test on
 * entry names (directories or `<name>.json` bases) of that directory for the trailing partial segment.
 * Hashed names always pass (their content decides), as does everything when the partial segment is empty.
 */
export function prefixWalk(root: string, prefix: string): { dir: string; matches(name: string): boolean } {
  const segs = prefix.split('/');
  const partial = segs.pop()!;
  const dir = join(root, ...segs.map(encodeSegment));
  if (partial === '') return { dir, matches: () => true };
  const enc = encodeSegment(partial);
  // A partial segment too long to encode plainly can only match hashed names.
  if (enc.startsWith('~')) return { dir, matches: (name) => name.startsWith('~') };
  return { dir, matches: (name) => name.startsWith('~') || name.startsWith(enc) };
}
