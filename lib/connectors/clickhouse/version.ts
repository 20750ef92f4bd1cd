/**
 * The `_ape_dts_timestamp` versions ferry writes. ReplacingMergeTree keeps, per sorting key, the row with the
 * highest version, so:
 * - snapshot rows carry {@link SNAPSHOT_VERSION} (0): a chunk rerun writes the same rows with the same version
 *   and FINAL is unchanged, and every CDC row beats them;
 * - CDC rows carry versions from one {@link VersionClock} per sinker, strictly increasing in apply order (CDC
 *   applies in source order, so per key this is source order) and, per table, above every version already
 *   in the table (read once per table): a replay after a crash, or a worker on a machine whose clock is behind
 *   its predecessor's, still writes newer versions than what is there.
 * Versions are microseconds since the epoch (about 1.7e15: exact as a JS number, far inside Int64), plus a
 * counter when changes come faster than the clock.
 */
export const SNAPSHOT_VERSION = 0;

export class VersionClock {
  private last = 0;

  /** Raises the floor: every later version is above `v` (the highest version already in a table). */
  observe(v: number): void {
    if (v > this.last) this.last = v;
  }

  next(): number {
    const now = Date.now() * 1000;
    this.last = now > this.last ? now : this.last + 1;
    return this.last;
  }
}
