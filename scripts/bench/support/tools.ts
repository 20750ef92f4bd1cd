import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

const has = (bin: string): boolean => spawnSync('bash', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

/**
 * Makes a peer tool available: present -> undefined; missing and root -> `apt-get install` its Debian
 * package; otherwise (or when the install fails) the one-line reason the peer is skipped.
 */
export function ensureTool(bin: string, pkg: string, log: (s: string) => void): string | undefined {
  if (has(bin)) return undefined;
  if (process.getuid?.() !== 0) return `${bin} missing and not root: skipped (apt-get install -y ${pkg})`;
  log(`installing ${pkg} (apt-get) for ${bin}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => spawnSync('apt-get', args, { env, stdio: 'ignore' }).status === 0;
  if (!apt(['install', '-y', '-q', '--no-install-recommends', pkg]) && !(apt(['update', '-q']) && apt(['install', '-y', '-q', '--no-install-recommends', pkg]))) {
    return `${bin} missing and apt-get install ${pkg} failed: skipped`;
  }
  return has(bin) ? undefined : `${bin} still missing after installing ${pkg}: skipped`;
}

const firstLine = (argv: string[]): string => {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
  } catch {
    return 'n/a';
  }
};

/** The machine and tool versions, recorded with every result so figures are read against their context. */
export function machineInfo(): Record<string, string | number> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    mysqldump: firstLine(['mysqldump', '--version']),
    pg_dump: firstLine(['pg_dump', '--version']),
    pgloader: firstLine(['pgloader', '--version']),
    commit: firstLine(['git', 'rev-parse', '--short', 'HEAD']),
  };
}
