import { FerryError } from '../core/errors.ts';

/**
 * The INI dialect of ape-dts task configs, read the way ape-dts reads it (Rust `configparser` crate with
 * `Ini::new()` and inline comments switched off):
 * - `[section]` headers; text after the closing `]` is ignored; names are trimmed and lower-cased;
 * - `key=value` or `key: value` -- the first `=` or `:` on the line splits it; key and value are trimmed;
 *   keys are lower-cased, values keep their case;
 * - a line whose first non-blank character is `;` or `#` is a comment;
 * - NO inline comments: `do_tbs=r#^db\.t.*#` and `do_dbs=`a;`` keep every character after the delimiter;
 * - a line without a delimiter is a key with an empty value; keys before any header land in `default`;
 * - a repeated key keeps its last value; a repeated section is merged.
 *
 * Hand-written on purpose: the npm `ini` package strips `;`/`#` inline comments, which would cut ape-dts
 * regex and quoted-name values short, and it has no `key: value` form.
 */

const COMMENT = /^[;#]/;

/**
 * Parses ape-dts INI text into `{ section: { key: value } }`.
 * Invariants: every value is a string (empty when the file gives none); section and key names are
 * lower-case; never throws for content it can read -- only an unclosed `[` header or an empty key is
 * refused, with FerryError CF003 naming `source:line`.
 */
export function parseIni(text: string, source = 'config'): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = 'default';
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '' || COMMENT.test(line)) return;
    const lineNo = i + 1;
    if (line.startsWith('[')) {
      const end = line.lastIndexOf(']');
      if (end < 0) {
        throw new FerryError('CF003', `${source}:${lineNo}: expected "]" closing the section header, got ${quote(line)}`, {
          details: { line: lineNo },
        });
      }
      section = line.slice(1, end).trim().toLowerCase();
      out[section] ??= {};
      return;
    }
    const at = line.search(/[=:]/);
    const key = (at < 0 ? line : line.slice(0, at)).trim().toLowerCase();
    if (key === '') {
      // The rest of the line may be a secret: name the line, never echo it.
      throw new FerryError('CF003', `${source}:${lineNo}: expected a key before "${line[at]}", got a line starting with "${line[at]}"`, {
        details: { line: lineNo },
      });
    }
    const value = at < 0 ? '' : line.slice(at + 1).trim();
    (out[section] ??= {})[key] = value;
  });
  return out;
}

const quote = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
