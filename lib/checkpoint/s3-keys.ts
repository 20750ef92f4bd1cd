import { FerryError } from '../core/errors.ts';

/**
 * Object names of the S3 store: `<prefix>items/<encoded key>.json` and `<prefix>leases/<encoded name>.json`.
 *
 * The encoding keeps keys readable (`tasks/t1/chunks/0000-00001`) and makes every name safe for S3 tools and
 * file-system backed stand-ins: no empty, `.` or `..` path segments, no segment over {@link MAX_SEGMENT_BYTES}.
 * It works code point by code point, left to right, without look-ahead:
 *
 * - `A-Z a-z 0-9 _ -` and every non-ASCII character stay as they are; other ASCII becomes `%HH`
 *   (so `.`, `=`, `~` and `%` never appear unescaped);
 * - `/` stays `/`, except that it is written `=/` when it would end an empty segment;
 * - a segment about to pass {@link MAX_SEGMENT_BYTES} gets a soft break `~/`, which decodes to nothing.
 *
 * Invariants: injective, and prefix-preserving both ways -- `encode(p)` is a prefix of `encode(k)` exactly
 * when `p` is a prefix of `k` -- so `list(prefix)` is one ListObjectsV2 on `<prefix>items/<encode(prefix)>`.
 * (The `.json` suffix cannot create false matches: an encoded prefix never contains `.`.) The record inside
 * each object keeps the real key, so nothing ever needs decoding.
 */

/** Longest encoded segment, in bytes: below the 255-byte file-name limit of stand-ins, leaving room for their suffixes. */
export const MAX_SEGMENT_BYTES = 200;
/** S3's limit on an object key, in UTF-8 bytes. */
export const MAX_OBJECT_KEY_BYTES = 1024;
const SUFFIX = '.json';

/** The prefix-preserving encoding of a key or key prefix (see the module comment). */
export function encodeKeyPath(key: string): string {
  let out = '';
  let segBytes = 0;
  for (const ch of key) {
    if (ch === '/') {
      out += segBytes === 0 ? '=/' : '/';
      segBytes = 0;
      continue;
    }
    const e = /^[A-Za-z0-9_-]$/.test(ch) || ch.codePointAt(0)! > 0x7f ? ch : `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
    const n = Buffer.byteLength(e, 'utf8');
    if (segBytes + n > MAX_SEGMENT_BYTES) {
      out += '~/';
      segBytes = 0;
    }
    out += e;
    segBytes += n;
  }
  return out;
}

/** Object names for one bucket prefix. */
export class S3Layout {
  readonly items: string;
  readonly leases: string;

  constructor(prefix: string) {
    this.items = `${prefix}items/`;
    this.leases = `${prefix}leases/`;
  }

  item(key: string): string {
    return checkLength(`${this.items}${encodeKeyPath(key)}${SUFFIX}`, key);
  }

  lease(name: string): string {
    return checkLength(`${this.leases}${encodeKeyPath(name)}${SUFFIX}`, name);
  }

  /** The ListObjectsV2 prefix for items whose key starts with `prefix`. */
  listPrefix(prefix: string): string {
    return `${this.items}${encodeKeyPath(prefix)}`;
  }
}

function checkLength(objectKey: string, key: string): string {
  const n = Buffer.byteLength(objectKey, 'utf8');
  if (n > MAX_OBJECT_KEY_BYTES) {
    throw new FerryError('RT002', `checkpoint: key ${JSON.stringify(key.slice(0, 80))}... encodes to an S3 object key of ${n} bytes, over S3's ${MAX_OBJECT_KEY_BYTES}`, {
      details: { bytes: n, limit: MAX_OBJECT_KEY_BYTES },
    });
  }
  return objectKey;
}
