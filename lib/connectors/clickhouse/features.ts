/**
 * What a ClickHouse server version can do, decided once from `SELECT version()`. ferry targets current
 * ClickHouse (23.x and later); the fallbacks below keep very old servers (Debian's 18.16) usable at little cost.
 */
export interface ServerFeatures {
  version: string;
  /** DateTime64(p, tz) (20.1+); otherwise DateTime (seconds). */
  dateTime64: boolean;
  /** Date32, 1900-2299 (21.9+); otherwise Date, 1970-2149. */
  date32: boolean;
  /** Bool type (21.12+); otherwise UInt8. */
  bool: boolean;
  /** ReplacingMergeTree(version, is_deleted): FINAL hides deleted rows itself (23.2+). */
  isDeletedEngine: boolean;
  /** `mutations_sync` setting (ALTER ... DELETE waits) (20.1+); otherwise ferry polls system.mutations. */
  mutationsSync: boolean;
  /** Widest Decimal precision: 76 (Decimal256, 22.1+), else 38. */
  maxDecimalPrecision: number;
}

/** Features of a `major.minor...` version string. */
export function featuresOf(version: string): ServerFeatures {
  const [major = 0, minor = 0] = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const atLeast = (a: number, b: number): boolean => major > a || (major === a && minor >= b);
  return {
    version,
    dateTime64: atLeast(20, 1),
    date32: atLeast(21, 9),
    bool: atLeast(21, 12),
    isDeletedEngine: atLeast(23, 2),
    mutationsSync: atLeast(20, 1),
    maxDecimalPrecision: atLeast(22, 1) ? 76 : 38,
  };
}

/** The version ferry plans DDL for when no server is asked (dry runs, tests): current ClickHouse. */
export const MODERN = featuresOf('26.7');
