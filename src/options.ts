// Embedding options: validated once against the setting declarations, then frozen. An
// error names the option and says what to do.
import os from 'node:os';
import { checkValue, type Setting } from './settings/setting';
import { limitSettings } from './settings/limits';
import { serverSettings } from './settings/server';
import { proxySettings } from './settings/proxy';
import { resolveTls, type TlsOptions } from './tls-options';
import { backlog as backlogSetting, unixSocketMode as unixSocketModeSetting } from './settings/sockets';
import { gracefulTimeout as gracefulTimeoutSetting, harakiri as harakiriSetting } from './settings/workers';
import { formatBind, parseBind, type BindAddress } from './bind';
import { parseBytes, parseDuration } from './settings/units';
import { OptionError } from './errors';
import { Logger, type LogLevel } from './log';
import type { NativeLimits, NativeTlsOptions } from './native';
import type { ServerHooks } from './types';

/** A stream that wsgi.errors writes to (process.stderr by default). */
export interface TextSink {
  write(chunk: string | Uint8Array): unknown;
}

export interface ServerOptions {
  /** Address to listen on when `bind` is not given (default '127.0.0.1'; '' for every address). */
  host?: string;
  /** Port to listen on when `bind` is not given (default 8000; 0 picks a free port). */
  port?: number;
  /** Bind strings: 'HOST:PORT', '[::1]:PORT', 'unix:PATH', 'fd://N', and with a scheme 'https://HOST:PORT', 'uwsgi://HOST:PORT', 'https+unix:PATH', 'uwsgi+unix:PATH'. Replaces host and port. */
  bind?: string | string[];
  /** TLS of the https binds: { cert, key, ... } as PEM text, Buffers or file paths. */
  tls?: TlsOptions;
  /** Largest uwsgi packet on uwsgi binds, bytes (default 4096). */
  uwsgiBufferSize?: number | string;
  /** Every connection starts with a PROXY protocol (v1/v2) header. Default false. */
  proxyProtocol?: boolean;
  /** Who may send the PROXY protocol header: addresses, CIDR ranges, '*'. Default loopback. */
  proxyAllowIps?: string[];
  /** Whose forwarded headers (X-Forwarded-*, Forwarded) are believed: addresses, CIDR ranges, 'unix', '*'. Default none (the tsgi command's default is 127.0.0.1, ::1, unix). */
  forwardedAllowIps?: string[];
  /** A path answered by the server without calling the application: 200 while serving, 503 once closing. Default '' (none). */
  healthPath?: string;
  backlog?: number;
  /** File mode of unix: sockets in octal ('660'); '' leaves the umask's. */
  unixSocketMode?: string;
  scriptName?: string;
  urlScheme?: 'http' | 'https';
  multiprocess?: boolean;
  multithread?: boolean;
  /** The stream behind wsgi.errors (tracebacks, short responses). Default process.stderr. */
  errors?: TextSink;
  hooks?: ServerHooks;
  /** Aborting it closes the server (gracefully). */
  signal?: AbortSignal;
  /** Server events (listening, closing). Default: warnings and errors to stderr. */
  logger?: Logger;
  logLevel?: LogLevel;

  // Sizes are bytes, or text with a unit ('64KB', '10MB'). Durations are MILLISECONDS, as in
  // JavaScript APIs (setTimeout, node:http), or text with a unit ('5s', '500ms', '2m').
  maxRequestLine?: number | string;
  maxHeaderSize?: number | string;
  maxHeaders?: number;
  maxBodySize?: number | string;
  bodyMemorySize?: number | string;
  spoolDir?: string;
  headerTimeout?: number | string;
  firstByteTimeout?: number | string;
  bodyTimeout?: number | string;
  minBodyRate?: number;
  minBodyRateGrace?: number | string;
  keepAliveTimeout?: number | string;
  writeTimeout?: number | string;
  responseHold?: number;
  sendfile?: 'auto' | 'always' | 'never';
  maxConnections?: number;
  maxKeepAliveRequests?: number;

  /** Per-request deadline in ms: a request still running after this long is answered 504 (or its connection closed) and its body closed. 0 (default) disables. */
  harakiri?: number | string;
  /** close()'s default timeout in ms: in-flight requests still running after this long are cut off. Default 30000. */
  gracefulTimeout?: number | string;
}

export interface ResolvedOptions {
  readonly binds: readonly BindAddress[];
  readonly backlog: number;
  readonly unixSocketMode: number;
  readonly scriptName: string;
  readonly urlScheme: string;
  readonly multiprocess: boolean;
  readonly multithread: boolean;
  readonly errors: TextSink;
  readonly hooks: ServerHooks | undefined;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger;
  readonly limits: Readonly<NativeLimits>;
  readonly harakiri: number;
  readonly gracefulTimeout: number;
  readonly tls: NativeTlsOptions | undefined;
  readonly proxyProtocol: boolean;
  readonly proxyAllowIps: readonly string[];
  readonly uwsgiBufferSize: number;
  readonly forwardedAllowIps: readonly string[];
  readonly healthPath: string;
}

// Declarations are typed by value (Setting<number>…); checkValue takes any of them.
const SETTINGS = [...serverSettings, ...limitSettings, ...proxySettings, backlogSetting, unixSocketModeSetting, harakiriSetting, gracefulTimeoutSetting] as unknown as readonly Setting[];
const BY_NAME = new Map(SETTINGS.map((s) => [s.name, s]));
const OTHER_KEYS = ['bind', 'tls', 'errors', 'hooks', 'signal', 'logger', 'logLevel'];
const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'critical'];
/** Process-manager settings that an embedded server cannot honour, with what to use instead. */
const MANAGER_ONLY: Record<string, string> = {
  timeout: 'option "timeout" is the process manager\'s blocked-event-loop deadline (tsgi --timeout): a blocked event loop can only be ended by killing its process, which an embedded server cannot do to its own; for a per-request deadline use "harakiri" (ms), and for close() use "gracefulTimeout" (ms)',
};

function invalid(message: string): OptionError {
  return new OptionError('TSGI_ERR_INVALID_OPTION', message);
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestScore) { bestScore = d; best = c; }
  }
  return bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** Validates embedding options once and returns them frozen. Throws OptionError (TSGI_ERR_INVALID_OPTION). */
export function resolveOptions(options: ServerOptions | undefined): ResolvedOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw invalid(`options must be an object, got ${typeof options}`);
  const known = [...BY_NAME.keys(), ...OTHER_KEYS];
  const raw = options as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (BY_NAME.has(key) || OTHER_KEYS.includes(key)) continue;
    if (key in MANAGER_ONLY) throw invalid(MANAGER_ONLY[key]);
    const guess = closest(key, known);
    throw invalid(`unknown option ${JSON.stringify(key)}${guess ? `; did you mean ${JSON.stringify(guess)}?` : `; known options: ${known.join(', ')}`}`);
  }
  const value = <T>(setting: Setting): T => {
    let v = raw[setting.name];
    if (v === undefined) return setting.default as T;
    if (typeof v === 'string' && (setting.type === 'duration' || setting.type === 'bytes')) {
      // A string must carry its unit: a bare '5' could mean seconds (as on the command line) or milliseconds.
      const parsed = setting.type === 'duration' ? parseDuration(v, null) : parseBytes(v);
      if (parsed === undefined) {
        throw invalid(setting.type === 'duration'
          ? `option ${setting.name} must be a number of milliseconds (e.g. 5000) or text with a unit (e.g. '5s', '500ms'), got ${JSON.stringify(v)}`
          : `option ${setting.name} must be a number of bytes or text with a unit (e.g. '64KB', '10MB'), got ${JSON.stringify(v)}`);
      }
      v = parsed;
    }
    const problem = checkValue(setting, v);
    if (problem) throw invalid(`option ${problem}`);
    return v as T;
  };

  let binds: BindAddress[];
  if (raw.bind !== undefined) {
    if (raw.host !== undefined || raw.port !== undefined) throw invalid('options host/port and bind were both given: use bind alone (e.g. bind: "127.0.0.1:8000") or host and port');
    const list = typeof raw.bind === 'string' ? [raw.bind] : raw.bind;
    if (!Array.isArray(list) || list.length === 0 || list.some((b) => typeof b !== 'string')) {
      throw invalid('option bind must be a bind string or a non-empty array of them, e.g. "127.0.0.1:8000", "unix:/run/app.sock", "fd://3"');
    }
    binds = list.map((b: string) => parseBind(b));
  } else {
    const h = value<string>(BY_NAME.get('host')!);
    binds = [Object.freeze({ kind: 'tcp' as const, host: h, port: value<number>(BY_NAME.get('port')!), protocol: 'http' as const, tls: false })];
  }

  const tls = raw.tls === undefined ? undefined : resolveTls(raw.tls);
  const https = binds.find((b) => b.tls);
  if (https !== undefined && tls === undefined) {
    throw invalid(`bind ${JSON.stringify(formatBind(https))} is https and needs a certificate: give the option tls: { cert, key } (PEM text, Buffers or file paths)`);
  }

  const errors = raw.errors ?? process.stderr;
  if (typeof errors !== 'object' || errors === null || typeof (errors as TextSink).write !== 'function') {
    throw invalid('option errors must be a writable stream (an object with write()), e.g. process.stderr');
  }
  const hooks = raw.hooks as ServerHooks | undefined;
  if (hooks !== undefined) {
    if (typeof hooks !== 'object' || hooks === null) throw invalid('option hooks must be an object { requestStart?, requestEnd? }');
    for (const k of Object.keys(hooks)) {
      if (k !== 'requestStart' && k !== 'requestEnd') throw invalid(`option hooks.${k} is not a hook; the hooks are requestStart and requestEnd`);
      if (typeof (hooks as Record<string, unknown>)[k] !== 'function' && (hooks as Record<string, unknown>)[k] !== undefined) throw invalid(`option hooks.${k} must be a function`);
    }
  }
  const signal = raw.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalid('option signal must be an AbortSignal (e.g. AbortSignal.timeout(ms) or controller.signal)');
  let logger = raw.logger as Logger | undefined;
  if (logger !== undefined && !(logger instanceof Logger)) throw invalid('option logger must be a Logger from tsgi (createLogger())');
  if (raw.logLevel !== undefined && !LOG_LEVELS.includes(raw.logLevel as string)) {
    throw invalid(`option logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw.logLevel)}`);
  }
  logger ??= new Logger({ level: (raw.logLevel as LogLevel | undefined) ?? 'warning' });

  const mode = value<string>(unixSocketModeSetting as unknown as Setting);
  const spool = value<string>(BY_NAME.get('spoolDir')!);
  const limits: NativeLimits = Object.freeze({
    maxRequestLine: value<number>(BY_NAME.get('maxRequestLine')!),
    maxHeaderSize: value<number>(BY_NAME.get('maxHeaderSize')!),
    maxHeaders: value<number>(BY_NAME.get('maxHeaders')!),
    maxBodySize: value<number>(BY_NAME.get('maxBodySize')!),
    bodyMemorySize: value<number>(BY_NAME.get('bodyMemorySize')!),
    spoolDir: spool === '' ? os.tmpdir() : spool,
    headerTimeout: value<number>(BY_NAME.get('headerTimeout')!),
    firstByteTimeout: value<number>(BY_NAME.get('firstByteTimeout')!),
    bodyTimeout: value<number>(BY_NAME.get('bodyTimeout')!),
    minBodyRate: value<number>(BY_NAME.get('minBodyRate')!),
    minBodyRateGrace: value<number>(BY_NAME.get('minBodyRateGrace')!),
    keepAliveTimeout: value<number>(BY_NAME.get('keepAliveTimeout')!),
    writeTimeout: value<number>(BY_NAME.get('writeTimeout')!),
    responseHold: value<number>(BY_NAME.get('responseHold')!),
    sendfile: value<NativeLimits['sendfile']>(BY_NAME.get('sendfile')!),
    maxConnections: value<number>(BY_NAME.get('maxConnections')!),
    maxKeepAliveRequests: value<number>(BY_NAME.get('maxKeepAliveRequests')!),
    healthPath: value<string>(BY_NAME.get('healthPath')!),
  });

  return Object.freeze({
    binds: Object.freeze(binds),
    backlog: value<number>(backlogSetting as unknown as Setting),
    unixSocketMode: mode === '' ? -1 : parseInt(mode, 8),
    scriptName: value<string>(BY_NAME.get('scriptName')!),
    urlScheme: value<string>(BY_NAME.get('urlScheme')!),
    multiprocess: value<boolean>(BY_NAME.get('multiprocess')!),
    multithread: value<boolean>(BY_NAME.get('multithread')!),
    errors: errors as TextSink,
    hooks: hooks && (hooks.requestStart || hooks.requestEnd) ? Object.freeze({ ...hooks }) : undefined,
    signal: signal as AbortSignal | undefined,
    logger,
    limits,
    harakiri: value<number>(harakiriSetting as unknown as Setting),
    gracefulTimeout: value<number>(gracefulTimeoutSetting as unknown as Setting),
    tls,
    proxyProtocol: value<boolean>(BY_NAME.get('proxyProtocol')!),
    proxyAllowIps: Object.freeze([...value<string[]>(BY_NAME.get('proxyAllowIps')!)]),
    uwsgiBufferSize: value<number>(BY_NAME.get('uwsgiBufferSize')!),
    // An embedded server believes no one's forwarded headers unless told whom to.
    forwardedAllowIps: Object.freeze(raw.forwardedAllowIps === undefined ? [] : [...value<string[]>(BY_NAME.get('forwardedAllowIps')!)]),
    healthPath: value<string>(BY_NAME.get('healthPath')!),
  });
}
