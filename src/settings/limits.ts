// Limits and timeouts of the HTTP core. Each has a default chosen against what peers ship
// (see docs/api.md), a setting, and the status a client gets when it is exceeded.
import { defineSetting } from './setting';

const KiB = 1024;
const MiB = 1024 * 1024;

export const maxRequestLine = defineSetting<number>({
  name: 'maxRequestLine',
  section: 'limits',
  type: 'bytes',
  default: 8190,
  min: 64,
  max: 1 * MiB,
  doc: 'Longest request line (method, target, version); longer gets 414.',
});

export const maxHeaderSize = defineSetting<number>({
  name: 'maxHeaderSize',
  section: 'limits',
  type: 'bytes',
  default: 16 * KiB,
  min: 256,
  max: 16 * MiB,
  doc: 'Largest request head (request line and header fields); larger gets 431.',
});

export const maxHeaders = defineSetting<number>({
  name: 'maxHeaders',
  section: 'limits',
  type: 'int',
  default: 100,
  min: 1,
  max: 1024,
  doc: 'Most header fields in a request; more gets 431.',
});

export const maxBodySize = defineSetting<number>({
  name: 'maxBodySize',
  section: 'limits',
  type: 'bytes',
  default: 100 * MiB,
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  doc: 'Largest request body; larger gets 413 (a declared Content-Length is checked before reading).',
});

export const bodyMemorySize = defineSetting<number>({
  name: 'bodyMemorySize',
  section: 'limits',
  type: 'bytes',
  default: 1 * MiB,
  min: 0,
  max: 1024 * MiB,
  doc: 'Request bodies larger than this are spooled to an unlinked temporary file instead of memory.',
});

export const spoolDir = defineSetting<string>({
  name: 'spoolDir',
  section: 'limits',
  type: 'string',
  default: '',
  doc: "Directory for spooled request bodies; empty means the system's temporary directory.",
});

export const headerTimeout = defineSetting<number>({
  name: 'headerTimeout',
  section: 'limits',
  type: 'duration',
  default: 60_000,
  min: 1,
  max: 3_600_000,
  doc: 'Time a client has to send a complete request head, counted from its first byte (more bytes do not extend it); then 408 and close.',
});

export const firstByteTimeout = defineSetting<number>({
  name: 'firstByteTimeout',
  section: 'limits',
  type: 'duration',
  default: 5_000,
  min: 1,
  max: 3_600_000,
  doc: 'Time a new connection has to send the first byte of its first request; then it is closed without a response.',
});

export const bodyTimeout = defineSetting<number>({
  name: 'bodyTimeout',
  section: 'limits',
  type: 'duration',
  default: 60_000,
  min: 1,
  max: 3_600_000,
  doc: 'Longest pause between request body bytes; then 408 and close.',
});

export const minBodyRate = defineSetting<number>({
  name: 'minBodyRate',
  section: 'limits',
  type: 'int',
  default: 240,
  min: 0,
  max: 1_000_000_000,
  doc: 'Bytes per second a request body must average (counted from its start) once minBodyRateGrace is over; slower gets 408 and close. 0 turns it off.',
});

export const minBodyRateGrace = defineSetting<number>({
  name: 'minBodyRateGrace',
  section: 'limits',
  type: 'duration',
  default: 5_000,
  min: 0,
  max: 3_600_000,
  doc: 'How long a request body may take before minBodyRate is enforced.',
});

export const keepAliveTimeout = defineSetting<number>({
  name: 'keepAliveTimeout',
  section: 'limits',
  type: 'duration',
  default: 5_000,
  min: 1,
  max: 3_600_000,
  doc: 'Idle time after which a keep-alive connection is closed.',
});

export const writeTimeout = defineSetting<number>({
  name: 'writeTimeout',
  section: 'limits',
  type: 'duration',
  default: 60_000,
  min: 1,
  max: 3_600_000,
  doc: 'Time a client may read nothing of a pending response before its connection is closed.',
});

export const responseHold = defineSetting<number>({
  name: 'responseHold',
  section: 'limits',
  type: 'int',
  default: 100,
  min: 0,
  max: 1_000_000,
  doc: 'Small bodiless requests read in one event-loop pass are answered together, and their responses held and sent after the batch, so that it runs without a system call between its requests. A response that came more than this many microseconds after the previous one (the application was slow) is sent at once, with those held. 0 sends every response as it completes.',
});

export const sendfile = defineSetting<string>({
  name: 'sendfile',
  section: 'limits',
  type: 'string',
  choices: ['auto', 'always', 'never'],
  default: 'auto',
  doc: 'How a file response (wsgi.file_wrapper) is written: `always` with sendfile(2), the server copying nothing; `never` read and written block by block; `auto` with sendfile(2) except to a client on a loopback address (127.0.0.0/8, ::1: a proxy or load generator on the same host), which on Linux spends more to receive a file sent with sendfile(2) than one written from memory, by more than the server saves (docs/benchmarks.md). TLS connections always read and write.',
});

export const maxConnections = defineSetting<number>({
  name: 'maxConnections',
  section: 'limits',
  type: 'int',
  default: 10_000,
  min: 1,
  max: 10_000_000,
  doc: 'Most open connections per server (per worker). At the limit a new connection closes the oldest one that has not sent a complete request head (new or idle keep-alive), else one reading a body below minBodyRate; only when every connection holds a request does the new one get 503.',
});

export const maxKeepAliveRequests = defineSetting<number>({
  name: 'maxKeepAliveRequests',
  section: 'limits',
  type: 'int',
  default: 0,
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  doc: 'Requests served on one connection before it is closed; 0 for no limit.',
});

/** Every limit, in the order of the reference page. */
export const limitSettings = [
  maxRequestLine, maxHeaderSize, maxHeaders, maxBodySize, bodyMemorySize, spoolDir,
  headerTimeout, firstByteTimeout, bodyTimeout, minBodyRate, minBodyRateGrace, keepAliveTimeout, writeTimeout, responseHold, sendfile, maxConnections, maxKeepAliveRequests,
] as const;
