import { isBlank } from './fields.ts';
import { CONNECTOR_KEYS, NOT_IMPLEMENTED, NOT_IMPLEMENTED_HINT, NOT_IMPLEMENTED_SECTIONS } from './keys.ts';

/**
 * One warning per config key ferry will not act on, naming `section.key` (never its value):
 * - keys of sections ferry has no counterpart for (`[checker]`...), one warning per section;
 * - ape-dts keys not implemented yet, when set to a non-empty value;
 * - unknown keys and sections (typos), always. In [extractor]/[sinker] an unknown key stays in `raw`, so a
 *   connector may still read it.
 * Engine-specific keys of [extractor]/[sinker] (server_id, slot_name...) are the connector's business:
 * no warning here.
 */
export function collectWarnings(
  sections: Record<string, Record<string, unknown>>,
  implemented: Record<string, ReadonlySet<string>>,
): string[] {
  const out: string[] = [];
  for (const [name, body] of Object.entries(sections)) {
    const keys = Object.keys(body);
    if (NOT_IMPLEMENTED_SECTIONS.has(name)) {
      if (keys.some((k) => !isBlank(body[k]))) out.push(`[${name}]: ape-dts section not implemented by ferry yet; ignored`);
      continue;
    }
    const used = implemented[name];
    if (!used) {
      const where = name === 'default' ? 'keys before the first [section]' : 'unknown section';
      out.push(`[${name}]: ${where}; ignored (${keys.map((k) => `${name}.${k}`).join(', ')})`);
      continue;
    }
    const connector = CONNECTOR_KEYS[name as 'extractor' | 'sinker'];
    const notYet = NOT_IMPLEMENTED[name];
    for (const key of keys) {
      if (used.has(key) || connector?.has(key)) continue;
      if (notYet?.has(key)) {
        if (isBlank(body[key])) continue;
        const hint = NOT_IMPLEMENTED_HINT[name] ?? NOT_IMPLEMENTED_HINT[key];
        out.push(`${name}.${key}: ape-dts key not implemented by ferry yet; ignored${hint ? ` (${hint})` : ''}`);
        continue;
      }
      out.push(`${name}.${key}: unknown key; ${connector ? 'kept in raw for the connector' : 'ignored'}`);
    }
  }
  return out;
}
