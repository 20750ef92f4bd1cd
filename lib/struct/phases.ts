import { FerryError } from '../core/errors.ts';
import type { StructPhase } from '../core/struct.ts';

/** Every phase in the order a struct task runs them (an index before the CHECKs and foreign keys that may need it). */
export const PHASE_ORDER: readonly StructPhase[] = ['database', 'type', 'sequence', 'table', 'index', 'constraint', 'foreign_key'];

/**
 * `filter.do_structures` words -> the phases a struct task runs.
 * `table` brings the enum types and sequences its columns use (a table cannot be created without them);
 * `constraint` means CHECK constraints and foreign keys (ape-dts); `comment` travels with its table or index.
 */
export function phasesFor(doStructures: string[]): Set<StructPhase> {
  if (doStructures.length === 0 || doStructures.includes('*')) return new Set(PHASE_ORDER);
  const out = new Set<StructPhase>();
  for (const w of doStructures) {
    switch (w) {
      case 'database':
      case 'sequence':
      case 'index':
      case 'type':
      case 'foreign_key':
        out.add(w);
        break;
      case 'table':
        out.add('type').add('sequence').add('table');
        break;
      case 'constraint':
        out.add('constraint').add('foreign_key');
        break;
      case 'comment':
        break;
      default:
        throw new FerryError('CF001', `filter.do_structures: unknown structure "${w}"`, { details: { key: 'filter.do_structures' } });
    }
  }
  return out;
}

export const phaseRank = (p: StructPhase): number => PHASE_ORDER.indexOf(p);
