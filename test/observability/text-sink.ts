/** A writable stream that keeps what is written, for asserting on console output. */
import { Writable } from 'node:stream';

/** Collects written text in `text`; not a TTY. */
export class TextSink extends Writable {
  text = '';
  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    this.text += chunk.toString();
    done();
  }
}
