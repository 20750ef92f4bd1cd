import { throwIfAborted } from '../core/signal.ts';

/**
 * Reads ahead of the consumer: pulls from `source` into a queue bounded by item count and bytes, so reading
 * the next page overlaps writing the current one while memory stays flat.
 * Invariant: at most `maxItems` items and (one item beyond) `maxBytes` bytes are held; order is preserved;
 * an error from the source surfaces at the consumer's next pull; stopping early (break) stops the producer.
 */
export async function* prefetch<T>(
  source: AsyncIterable<T>,
  opts: { maxItems: number; maxBytes: number; sizeOf: (item: T) => number; signal?: AbortSignal },
): AsyncGenerator<T> {
  const queue: Array<{ item: T; bytes: number }> = [];
  let bytes = 0;
  let done = false;
  let failure: { error: unknown } | undefined;
  let stopped = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const notify = (which: 'consumer' | 'producer') => {
    const fn = which === 'consumer' ? wakeConsumer : wakeProducer;
    if (which === 'consumer') wakeConsumer = undefined;
    else wakeProducer = undefined;
    fn?.();
  };

  const producer = (async () => {
    try {
      for await (const item of source) {
        const size = opts.sizeOf(item);
        queue.push({ item, bytes: size });
        bytes += size;
        notify('consumer');
        while (!stopped && (queue.length >= opts.maxItems || bytes >= opts.maxBytes)) {
          await new Promise<void>((r) => (wakeProducer = r));
        }
        if (stopped) break;
      }
    } catch (e) {
      failure = { error: e };
    } finally {
      done = true;
      notify('consumer');
    }
  })();

  try {
    for (;;) {
      throwIfAborted(opts.signal);
      const next = queue.shift();
      if (next) {
        bytes -= next.bytes;
        notify('producer');
        yield next.item;
        continue;
      }
      if (failure) throw failure.error;
      if (done) return;
      await new Promise<void>((r) => (wakeConsumer = r));
    }
  } finally {
    stopped = true;
    notify('producer');
    await producer;
  }
}
