import { FerryError } from '../core/errors.ts';
import type { NamePattern } from './types.ts';
import type { Token } from './tokens.ts';

/**
 * Name patterns of filter keys, matched like ape-dts (`RdbFilter::match_token`):
 * - quoted (`` `a*` `` / `"a*"`): the exact name, no wildcards;
 * - `r#...#`: a regular expression, anchored at both ends;
 * - plain: `*` matches any run of characters, `?` matches zero or one character (ape-dts semantics,
 *   not the shell's exactly-one); every other character matches itself.
 * Matching is case-sensitive, as in ape-dts.
 * Deviations (documented in docs/config.md): a regex is wrapped in a group before anchoring, so `a|b`
 * means `^(a|b)$`; regex metacharacters other than `*`/`?` in plain patterns are literal (ape-dts would
 * pass `$` or `+` through to its regex engine); a leading `(?i)` in a regex becomes the `i` flag, since
 * JavaScript has no inline flags.
 */

const escapeRegex = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

function wildcard(text: string): RegExp {
  const body = [...text].map((c) => (c === '*' ? '.*' : c === '?' ? '.?' : escapeRegex(c))).join('');
  return new RegExp(`^${body}$`, 'u');
}

function userRegex(body: string, raw: string, where: string): RegExp {
  let flags = '';
  let src = body;
  if (src.startsWith('(?i)')) {
    flags = 'i';
    src = src.slice(4);
  }
  try {
    return new RegExp(`^(?:${src})$`, `${flags}u`);
  } catch {
    // Unicode mode refuses escapes Rust's regex accepts (e.g. `\_`); retry without it.
    try {
      return new RegExp(`^(?:${src})$`, flags);
    } catch (e) {
      const reason = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e);
      throw new FerryError('CF001', `${where}: expected a valid regular expression, got ${JSON.stringify(raw)} (${reason})`, {
        details: { key: where },
      });
    }
  }
}

/** Compiles one filter token into a {@link NamePattern}; CF001 naming `where` for a broken regex. */
export function patternFromToken(tok: Token, where: string): NamePattern {
  if (tok.kind === 'quoted') return { source: tok.raw, regex: new RegExp(`^${escapeRegex(tok.value)}$`, 'u') };
  if (tok.kind === 'regex') return { source: tok.raw, regex: userRegex(tok.value, tok.raw, where) };
  return { source: tok.raw, regex: wildcard(tok.value) };
}

/**
 * Rebuilds a pattern from its `source` alone -- for a TaskConfig that went through JSON (where RegExp
 * objects become `{}`). Both quote characters are recognised, since the engine is no longer known.
 */
export function patternFromSource(source: string): NamePattern {
  const q = source[0];
  if (source.length >= 2 && (q === '`' || q === '"') && source.endsWith(q)) {
    return patternFromToken({ raw: source, value: source.slice(1, -1), kind: 'quoted', delim: null }, source);
  }
  if (source.length >= 3 && source.startsWith('r#') && source.endsWith('#')) {
    return patternFromToken({ raw: source, value: source.slice(2, -1), kind: 'regex', delim: null }, source);
  }
  return patternFromToken({ raw: source, value: source, kind: 'plain', delim: null }, source);
}

/** The pattern's RegExp, rebuilt from `source` when it was lost (see {@link patternFromSource}). */
export const regexOf = (p: NamePattern): RegExp => (p.regex instanceof RegExp ? p.regex : patternFromSource(p.source).regex);
