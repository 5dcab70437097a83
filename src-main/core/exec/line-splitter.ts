// Turns a byte stream into complete text lines for streaming callbacks, keeping the full text too.
// UTF-8 characters split across chunks are joined by StringDecoder before lines are cut.
import { StringDecoder } from 'node:string_decoder';

export interface LineCollectorOptions {
  /** Called with each kept line, without its newline, as soon as it is complete. */
  onLine?: (line: string) => void;
  /** Lines for which this returns false are dropped from the text and not reported. */
  keep?: (line: string) => boolean;
}

export class LineCollector {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly parts: string[] = [];

  constructor(private readonly options: LineCollectorOptions = {}) {}

  push(chunk: Buffer | string): void {
    this.accept(typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
  }

  /** Flushes a last line that had no newline; returns the whole kept text. */
  end(): string {
    this.accept(this.decoder.end());
    if (this.pending !== '') this.take(this.pending, '');
    this.pending = '';
    return this.parts.join('');
  }

  private accept(text: string): void {
    if (text === '') return;
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.take(line, '\n');
  }

  private take(line: string, terminator: string): void {
    if (this.options.keep && !this.options.keep(line)) return;
    this.parts.push(line, terminator);
    this.options.onLine?.(line);
  }
}
