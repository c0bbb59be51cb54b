// The error log of the master and the workers: the structured logger (src/log.ts)
// writing to a file, or standard error for '-'; reopened on SIGUSR1.
import { Logger, type LogFields, type LogFormat, type LogLevel } from '../log';
import { LogFile } from './log-file';

export class ErrorLog {
  private readonly file: LogFile;
  /** The structured logger behind this log, for code that takes a Logger. */
  readonly logger: Logger;

  constructor(path: string, level: string, fields: LogFields = { who: 'master' }, format: LogFormat = 'logfmt') {
    this.file = new LogFile(path, 2);
    // Error lines are written at once: they are rare and matter most when a crash follows.
    const stream = { write: (line: string) => this.file.writeNow(line) };
    this.logger = new Logger({ level: level as LogLevel, format, stream, fields: { pid: process.pid, ...fields } });
  }

  /** Raw text to the same file (wsgi.errors: tracebacks as the application writes them). */
  write(chunk: string | Uint8Array) {
    this.file.writeNow(typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8'));
  }

  debug(m: string, f?: LogFields) { this.logger.debug(m, f); }
  info(m: string, f?: LogFields) { this.logger.info(m, f); }
  warning(m: string, f?: LogFields) { this.logger.warning(m, f); }
  error(m: string, f?: LogFields) { this.logger.error(m, f); }
  critical(m: string, f?: LogFields) { this.logger.critical(m, f); }

  /** The descriptor written to now: native code writes its error lines there too. */
  get descriptor(): number { return this.file.descriptor; }

  reopen() { this.file.reopen(); }
  close() { this.file.close(); }
}
