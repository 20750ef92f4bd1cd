/**
 * The chunk runner's side of `TableWriter.openRawStream`: raw pages go into one open stream until it holds
 * `maxRows` rows, then the stream is ended and its rows are reported durable, up to its last page's key.
 *
 * Invariant: `onAcked` is called only after the writer's `end` resolved, once per stream, with the stream's row
 * count and the `lastKey` of its last page, so the caller's progress never runs ahead of the target.
 */
import type { KeyTuple } from '../core/values.ts';
import type { RowBatch } from '../core/source.ts';
import { batchRows } from '../core/source.ts';
import type { RawWriteStream, TableWriter } from '../core/sinker.ts';

export type OnAcked = (lastKey: KeyTuple | null, rows: number) => void;

export class PageStreams {
  private open?: { stream: RawWriteStream; format: string; rows: number; lastKey: KeyTuple | null };

  constructor(
    /** The writer's `openRawStream`. */
    private readonly openStream: NonNullable<TableWriter['openRawStream']>,
    private readonly maxRows: number,
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Sends a raw page into the open stream (opening one if needed; a page of another format ends the open one
   * first). False: the writer would not take this page raw; nothing of it was sent, and the open stream is
   * still open -- the caller ends it (`end`) before writing the page another way, to keep the order of writes.
   */
  async push(page: RowBatch, onAcked: OnAcked): Promise<boolean> {
    const raw = page.raw!;
    if (this.open && this.open.format !== raw.format) await this.end(onAcked);
    const o = (this.open ??= { stream: this.openStream(raw.format, this.signal), format: raw.format, rows: 0, lastKey: null });
    if (!(await o.stream.push(raw))) return false;
    o.rows += batchRows(page);
    o.lastKey = page.lastKey;
    if (o.rows >= this.maxRows) await this.end(onAcked);
    return true;
  }

  /** Ends the open stream, if any, and reports its rows once the target acknowledged them. */
  async end(onAcked: OnAcked): Promise<void> {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    await o.stream.end();
    if (o.rows > 0) onAcked(o.lastKey, o.rows);
  }

  /** Abandons the open stream (its rows were never reported). */
  abort(): void {
    const o = this.open;
    this.open = undefined;
    o?.stream.abort();
  }
}
