import { FerryError } from '../core/errors.ts';

/**
 * The DynamoDB table layout of the checkpoint store. One table, two string key attributes:
 *
 * | attribute | key | holds |
 * |---|---|---|
 * | `pk` | partition (HASH), S | `<prefix>i|<partition>` items, `<prefix>l|<lease name>` leases, `<prefix>d|` the partition directory |
 * | `sk` | sort (RANGE), S | the full item key; `lease` for a lease; a partition id in the directory |
 *
 * An item's partition is its key up to and including the second `/` (`tasks/<taskId>/`), so every key of one
 * task sits in one item collection and `list("tasks/<id>/chunks/")` is one paginated Query on `pk` with
 * `begins_with(sk, prefix)` -- never a Scan. Keys with fewer than two `/` share the root partition
 * (`<prefix>i|`). A prefix too short to name one partition (`""`, `tasks/`) is answered from the directory: an
 * idempotent marker `(<prefix>d|, <partition id>)` is written before the first item of a partition.
 *
 * Invariants: the three namespaces (`i|`, `l|`, `d|`) never collide, so leases never show up as items;
 * `sk` (the key) is at most {@link MAX_SORT_KEY_BYTES} UTF-8 bytes and `pk` at most {@link MAX_PARTITION_KEY_BYTES}.
 */

/** DynamoDB's limits on key attribute values. */
export const MAX_SORT_KEY_BYTES = 1024;
export const MAX_PARTITION_KEY_BYTES = 2048;

/** The partition id of a key: up to and including its second `/`, or '' (root) with fewer. */
export function partitionOf(key: string): string {
  const first = key.indexOf('/');
  const second = first < 0 ? -1 : key.indexOf('/', first + 1);
  return second < 0 ? '' : key.slice(0, second + 1);
}

/** Key attribute builders for one table prefix. */
export class DynamoLayout {
  constructor(readonly prefix: string) {
    if (Buffer.byteLength(prefix) > 512) throw new FerryError('CF001', 'checkpoint.prefix: expected at most 512 bytes for dynamodb', { details: { key: 'checkpoint.prefix' } });
  }

  item(key: string): { pk: string; sk: string } {
    checkBytes(key, MAX_SORT_KEY_BYTES, 'key');
    return { pk: `${this.prefix}i|${partitionOf(key)}`, sk: key };
  }

  lease(name: string): { pk: string; sk: string } {
    checkBytes(name, MAX_PARTITION_KEY_BYTES - 512 - 2, 'lease name');
    return { pk: `${this.prefix}l|${name}`, sk: 'lease' };
  }

  /** The directory entry for a (non-root) partition. */
  directory(partition: string): { pk: string; sk: string } {
    return { pk: this.directoryPk(), sk: partition };
  }

  directoryPk(): string {
    return `${this.prefix}d|`;
  }

  partitionPk(partition: string): string {
    return `${this.prefix}i|${partition}`;
  }
}

function checkBytes(text: string, max: number, what: string): void {
  const n = Buffer.byteLength(text, 'utf8');
  if (n > max) {
    throw new FerryError('RT002', `checkpoint: ${what} of ${n} UTF-8 bytes exceeds the DynamoDB store's limit of ${max} (${JSON.stringify(text.slice(0, 80))}...)`, {
      details: { bytes: n, limit: max },
    });
  }
}

/**
 * The CreateTable input for a checkpoint table (what the deploy template declares): on-demand billing, `pk`
 * HASH + `sk` RANGE, both strings. Used by tests and by operators who create the table by hand.
 */
export function checkpointTableDefinition(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' as const },
      { AttributeName: 'sk', AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
  };
}
