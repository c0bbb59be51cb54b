// wsgi.errors: a text stream the application (and the gateway) write error output to.
// One per server, shared by its requests; it writes to the configured stream.
import type { TextSink } from './options';
import type { ErrorStream } from './types';

export class ErrorOutput implements ErrorStream {
  private readonly sink: TextSink;

  constructor(sink: TextSink) {
    this.sink = sink;
  }

  write(text: string | Uint8Array): void {
    this.sink.write(text);
  }

  writelines(lines: Iterable<string | Uint8Array>): void {
    for (const line of lines) this.sink.write(line);
  }

  /** Writes are handed to the stream immediately; there is nothing held back to flush. */
  flush(): void {}
}
