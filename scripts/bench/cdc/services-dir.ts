import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where scripts/services.sh keeps its servers (and their pid files), with the same overrides. */
export const servicesDir = (env: NodeJS.ProcessEnv = process.env): string =>
  env.FERRY_SERVICES_DIR ?? join(env.TMPDIR ?? tmpdir(), `ferry-services-${process.getuid?.() ?? 0}`);
