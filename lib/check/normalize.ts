import type { TypeFamily, Value } from '../core/values.ts';

/**
 * A value's comparison form, so that the same datum read from two engines compares equal: MySQL 1 and
 * PostgreSQL true; DECIMAL '1.50' and NUMERIC '1.5' of a wider scale; jsonb's reordered keys; a timestamptz
 * with a zone and the UTC datetime it was stored as. Invariant: two values with the same normalized form hold
 * the same information for their family; precision is never rounded away (decimals compare digit by digit).
 */
export function normalizeValue(v: Value | undefined, family: TypeFamily): string {
  if (v === null || v === undefined) return '\u0000NULL';
  if (Buffer.isBuffer(v)) return 'x' + v.toString('hex');
  switch (family) {
    case 'bool':
    case 'int':
    case 'uint':
    case 'year':
      if (typeof v === 'boolean') return v ? '1' : '0';
      if (v === 't' || v === 'f') return v === 't' ? '1' : '0';
      return String(v);
    case 'decimal':
      return normalizeDecimal(String(v));
    case 'float':
      return typeof v === 'number' ? floatForm(v) : floatForm(Number(v));
    case 'json':
      return typeof v === 'string' ? canonicalJson(safeParse(v)) : canonicalJson(v);
    case 'datetime':
    case 'timestamptz':
      return normalizeTimestamp(String(v));
    case 'time':
      return String(v).replace(/\.?0+$/, (m) => (m.startsWith('.') ? '' : m));
    default:
      return typeof v === 'object' ? canonicalJson(v) : String(v);
  }
}

export function normalizeDecimal(s: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(s)) return s;
  let [int, frac = ''] = s.split('.');
  const neg = int.startsWith('-');
  int = int.replace(/^-?0*/, '') || '0';
  frac = frac.replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : int;
  return neg && body !== '0' ? `-${body}` : body;
}

const floatForm = (n: number): string => (Number.isFinite(n) ? String(Math.fround(n) === n ? Math.fround(n) : n) : String(n));

/** 'YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]|Z]' -> UTC 'YYYY-MM-DD HH:MM:SS[.ffffff]' without trailing zeros. */
export function normalizeTimestamp(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(s.trim());
  if (!m) return s;
  const frac = (m[3] ?? '').replace(/\.?0+$/, '');
  if (!m[4] || m[4] === 'Z' || /^[+-]00(:?00)?$/.test(m[4])) return `${m[1]} ${m[2]}${frac}`;
  const zone = m[4].length === 3 ? `${m[4]}:00` : m[4].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const d = new Date(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(d.getTime())) return s;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}${frac}`;
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v) ?? 'null';
}
