// A small structured logger: one line per event, JSON or logfmt, to a stream. Quiet by
// default (warnings and errors only). Level names are those of the logLevel setting.

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';
export type LogFormat = 'logfmt' | 'json';
export type LogFields = Record<string, unknown>;

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

export interface LogStream {
  write(line: string): unknown;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  stream?: LogStream;
  /** Fields added to every line (e.g. { worker: 3 }). */
  fields?: LogFields;
}

export class Logger {
  readonly level: LogLevel;
  readonly format: LogFormat;
  private readonly threshold: number;
  private readonly stream: LogStream;
  private readonly fields: LogFields;

  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? 'warning';
    if (!(this.level in SEVERITY)) throw new TypeError(`log level must be one of ${Object.keys(SEVERITY).join(', ')}, got ${JSON.stringify(this.level)}`);
    this.format = options.format ?? 'logfmt';
    this.threshold = SEVERITY[this.level];
    this.stream = options.stream ?? process.stderr;
    this.fields = options.fields ?? {};
  }

  /** True when lines of this level are written (check it before building costly fields). */
  enabled(level: LogLevel): boolean {
    return SEVERITY[level] >= this.threshold;
  }

  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger {
    return new Logger({ level: this.level, format: this.format, stream: this.stream, fields: { ...this.fields, ...fields } });
  }

  debug(msg: string, fields?: LogFields): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.log('info', msg, fields); }
  warning(msg: string, fields?: LogFields): void { this.log('warning', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.log('error', msg, fields); }
  critical(msg: string, fields?: LogFields): void { this.log('critical', msg, fields); }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (SEVERITY[level] < this.threshold) return;
    const record: LogFields = { time: new Date().toISOString(), level, msg, ...this.fields, ...fields };
    this.stream.write(formatLine(record, this.format));
  }
}

function formatLine(record: LogFields, format: LogFormat): string {
  if (format === 'json') return JSON.stringify(record, jsonValue) + '\n';
  let line = '';
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (v === undefined) continue;
    line += (line ? ' ' : '') + key + '=' + logfmtValue(v);
  }
  return line + '\n';
}

function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code, stack: value.stack };
  return value;
}

function logfmtValue(v: unknown): string {
  let s: string;
  if (v instanceof Error) s = v.stack ?? String(v);
  else if (typeof v === 'string') s = v;
  else if (typeof v === 'object' && v !== null) s = JSON.stringify(v);
  else s = String(v);
  return /^[^\s"=\\]+$/.test(s) ? s : JSON.stringify(s);
}
