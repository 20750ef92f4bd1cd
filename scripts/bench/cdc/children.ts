/**
 * Processes the bench started (ferry, the replica server), killed synchronously when the bench exits for any
 * reason -- an exception, Ctrl-C, a failed phase -- so none outlives it. Each registers its own kill.
 */
const live = new Set<() => void>();

export function track(kill: () => void): () => void {
  live.add(kill);
  return () => {
    live.delete(kill);
  };
}

export function killTracked(): void {
  for (const k of live) {
    try {
      k();
    } catch {
      /* already gone */
    }
  }
  live.clear();
}
