/**
 * COPY text format (the default of `COPY ... TO STDOUT` / `FROM STDIN`): one line per row, fields separated
 * by TAB, `\N` for NULL, and backslash escapes for backslash, TAB, newline and carriage return.
 * Values inside are each type's ordinary text form, so the same codecs serve COPY and the row protocol.
 */

/**
 * The raw format (core `RawRows`) of pages handed from a PostgreSQL source to a PostgreSQL writer: COPY text
 * rows as the protocol's CopyData messages, one per row, header included (see copy-wire.ts).
 */
export const PG_COPY_DATA = 'pg-copy-data';

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** One field for COPY FROM. */
export function escapeCopy(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') out += '\\\\';
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else out += c;
  }
  return out;
}

/** One COPY line (with the trailing newline) from already-encoded field texts. */
export function copyLine(fields: Array<string | null>): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (i) line += '\t';
    line += f === null ? '\\N' : escapeCopy(f);
  }
  return `${line}\n`;
}

const ESC: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** Undoes COPY escaping in one field (PostgreSQL emits only the single-letter escapes; octal/hex handled too). */
export function unescapeCopy(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const j = s.indexOf('\\', i);
    if (j < 0) {
      out += s.slice(i);
      break;
    }
    out += s.slice(i, j);
    const c = s[j + 1];
    if (c >= '0' && c <= '7') {
      const m = /^[0-7]{1,3}/.exec(s.slice(j + 1))![0];
      out += String.fromCharCode(parseInt(m, 8));
      i = j + 1 + m.length;
    } else if (c === 'x' && /^[0-9a-fA-F]/.test(s[j + 2] ?? '')) {
      const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(j + 2))![0];
      out += String.fromCharCode(parseInt(m, 16));
      i = j + 2 + m.length;
    } else {
      out += ESC[c] ?? c;
      i = j + 2;
    }
  }
  return out;
}

/**
 * Splits complete COPY text (whole lines) into rows of raw field texts (null for `\N`), calling `onRow`
 * per row. Fields without a backslash are sliced, never copied char by char: that is the fast path.
 */
export function parseCopyText(text: string, onRow: (fields: Array<string | null>) => void): void {
  let pos = 0;
  const end = text.length;
  while (pos < end) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = end;
    const fields: Array<string | null> = [];
    let start = pos;
    for (;;) {
      let tab = text.indexOf('\t', start);
      if (tab < 0 || tab > nl) tab = nl;
      const f = text.slice(start, tab);
      fields.push(f === '\\N' ? null : f.indexOf('\\') === -1 ? f : unescapeCopy(f));
      if (tab === nl) break;
      start = tab + 1;
    }
    onRow(fields);
    pos = nl + 1;
  }
}

/**
 * Incremental parser for a COPY TO stream: feed Buffers of any size, get rows back. Lines are split on the
 * newline byte, which never occurs inside a UTF-8 multibyte sequence, so chunk borders are safe.
 */
export class CopyLineSplitter {
  private rest: Buffer | null = null;

  push(chunk: Buffer, onRow: (fields: Array<string | null>) => void): void {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      this.rest = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
      return;
    }
    const head = chunk.subarray(0, last + 1);
    const whole = this.rest ? Buffer.concat([this.rest, head]) : head;
    this.rest = last + 1 < chunk.length ? chunk.subarray(last + 1) : null;
    parseCopyText(whole.toString('utf8'), onRow);
  }

  /** Whatever is left after the stream ended (a final line without newline). */
  end(onRow: (fields: Array<string | null>) => void): void {
    if (this.rest?.length) parseCopyText(this.rest.toString('utf8'), onRow);
    this.rest = null;
  }
}
