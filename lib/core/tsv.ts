/**
 * TabSeparated lines as ClickHouse reads and writes them, at the byte level: fields separated by `\t`, a line
 * ended by `\n`, NULL spelled `\N`, and in a value the four bytes that would break the framing escaped with a
 * backslash (`\\`, `\t`, `\n`, `\r`). Every other byte, UTF-8 or not, goes as it is, so binary values survive.
 */

/** For each byte: the letter of its escape (`\t` -> 't'), or 0 when it goes as it is. */
export const TSV_ESCAPE = new Uint8Array(256);
TSV_ESCAPE[0x09] = 0x74;
TSV_ESCAPE[0x0a] = 0x6e;
TSV_ESCAPE[0x0d] = 0x72;
TSV_ESCAPE[0x5c] = 0x5c;

/** The byte an escape letter stands for (the ones ClickHouse writes; an unknown letter stands for itself). */
const UNESCAPE: Record<number, number> = { 0x74: 0x09, 0x6e: 0x0a, 0x72: 0x0d, 0x5c: 0x5c, 0x62: 0x08, 0x66: 0x0c, 0x30: 0x00, 0x27: 0x27 };

/**
 * The fields of one line `buf[start, end)` (without its `\n`): each value's bytes with escapes undone, null for
 * `\N`. A field without escapes is a view into `buf`, not a copy.
 */
export function tsvFields(buf: Buffer, start: number, end: number): Array<Buffer | null> {
  const out: Array<Buffer | null> = [];
  let i = start;
  for (;;) {
    let j = i;
    let escaped = false;
    while (j < end && buf[j] !== 0x09) {
      if (buf[j] === 0x5c) {
        escaped = true;
        j++;
      }
      j++;
    }
    if (j > end) j = end;
    if (j - i === 2 && buf[i] === 0x5c && buf[i + 1] === 0x4e) out.push(null);
    else if (!escaped) out.push(buf.subarray(i, j));
    else {
      const v = Buffer.allocUnsafe(j - i);
      let n = 0;
      for (let k = i; k < j; k++) {
        const c = buf[k];
        if (c === 0x5c && k + 1 < j) {
          const e = buf[++k];
          v[n++] = UNESCAPE[e] ?? e;
        } else v[n++] = c;
      }
      out.push(v.subarray(0, n));
    }
    if (j >= end) return out;
    i = j + 1;
  }
}

/**
 * Calls `fn` with each line of `chunks` (`buf[start, end)`, the `\n` excluded), in order. Lines must not span
 * chunks: every writer of a chunked TSV payload here ends each chunk on a line end.
 */
export function forEachTsvLine(chunks: readonly Buffer[], fn: (buf: Buffer, start: number, end: number) => void): void {
  for (const c of chunks) {
    let i = 0;
    while (i < c.length) {
      let j = c.indexOf(0x0a, i);
      if (j < 0) j = c.length;
      fn(c, i, j);
      i = j + 1;
    }
  }
}

/**
 * Raw format `mysql-text-tsv` (see `RawRows`): a keyed MySQL page as TabSeparated lines, the read columns in order,
 * each value the text MySQL's text protocol sends with the session in UTC (what ferry's MySQL source decodes rows
 * from), escaped as above; binary values as their bytes; then one more field, `0` (the guard), so that a line cut
 * short anywhere never parses as a whole line (the writer sends it as a column it stores 0 in: a ClickHouse server
 * before 20.5 inserts what a cut request delivered). Invariants: a line never spans chunks; only columns of
 * the families in {@link MYSQL_TEXT_TSV_FAMILIES} are ever sent this way (FLOAT is widened text, BIT and GEOMETRY
 * are bytes: never); date and datetime values are real calendar dates (a page holding a zero date, or one with a
 * zero month or day, is sent decoded instead), and `RawRows.bounds` gives their smallest and largest text.
 */
export const MYSQL_TEXT_TSV = 'mysql-text-tsv';

/** Source families a `mysql-text-tsv` page may hold. */
export const MYSQL_TEXT_TSV_FAMILIES: ReadonlySet<string> = new Set([
  'int', 'uint', 'year', 'decimal', 'string', 'binary', 'enum', 'set', 'json', 'date', 'datetime', 'time', 'uuid', 'inet',
]);
