// How many workers run the application, and when they are replaced.
import { defineSetting } from './setting';
import { formatDuration } from './units';

/**
 * The longest interval between two heartbeats of a worker (a worker beats every quarter
 * of --timeout, and at least this often). A timeout shorter than this would kill
 * workers whose event loop is not blocked at all.
 */
export const HEARTBEAT_INTERVAL_MS = 1000;

export const workers = defineSetting<number>({
  name: 'workers',
  short: '-w',
  section: 'workers',
  type: 'int',
  default: 1,
  min: 1,
  max: 1024,
  doc: 'Number of worker processes.',
});

export const threads = defineSetting<number>({
  name: 'threads',
  section: 'workers',
  type: 'int',
  default: 1,
  min: 1,
  max: 256,
  doc: 'Worker threads per worker process, each with its own event loop and copy of the application; for a Python application, Python threads sharing the process\'s interpreter and event loop.',
});

export const timeout = defineSetting<number>({
  name: 'timeout',
  short: '-t',
  section: 'workers',
  type: 'duration',
  default: 30_000,
  min: 0,
  doc: "A worker whose event loop is blocked this long (no heartbeat) is killed and replaced; seconds, or e.g. '90s', '2m'. 0 disables; otherwise at least 1s, the heartbeat interval. Process manager only (not an embedding option).",
  validate: (v) => (v === 0 || v >= HEARTBEAT_INTERVAL_MS ? undefined
    : `timeout (--timeout) must be 0 (off) or at least ${formatDuration(HEARTBEAT_INTERVAL_MS)}, got ${formatDuration(v)}: `
      + `workers send a heartbeat as seldom as every ${formatDuration(HEARTBEAT_INTERVAL_MS)}, so a shorter timeout would kill workers that are not blocked `
      + `(a bare number is seconds: --timeout 30 is 30 s)`),
});

export const harakiri = defineSetting<number>({
  name: 'harakiri',
  section: 'workers',
  type: 'duration',
  default: 0,
  min: 0,
  doc: "A request running longer than this is answered 504 (or its connection closed if its response started) and its body closed; the worker and its other requests go on. A worker whose event loop stays blocked past it is killed. Seconds, or e.g. '500ms', '2m' (an embedding option too, in ms). 0 disables.",
});

export const maxRequests = defineSetting<number>({
  name: 'maxRequests',
  section: 'workers',
  type: 'int',
  default: 0,
  min: 0,
  doc: 'A worker that has served this many requests is gracefully replaced. 0 disables.',
});

export const maxRequestsJitter = defineSetting<number>({
  name: 'maxRequestsJitter',
  section: 'workers',
  type: 'int',
  default: 0,
  min: 0,
  doc: 'Adds a random 0..N to each worker\'s max-requests, so workers do not restart together.',
});

export const reloadOnRss = defineSetting<number>({
  name: 'reloadOnRss',
  section: 'workers',
  type: 'int',
  default: 0,
  min: 0,
  doc: 'A worker process whose resident memory exceeds this many MB is gracefully replaced. 0 disables.',
});

export const gracefulTimeout = defineSetting<number>({
  name: 'gracefulTimeout',
  section: 'workers',
  type: 'duration',
  default: 30_000,
  min: 0,
  doc: "On graceful stop or reload, how long a worker may finish in-flight requests before it is killed (also after its master died); seconds, or e.g. '500ms', '2m'. Embedding: close()'s default timeout (ms).",
});

export const appInterface = defineSetting<string>({
  name: 'interface',
  section: 'workers',
  type: 'string',
  default: 'auto',
  choices: ['auto', 'tsgi', 'node', 'fetch'],
  doc: 'What the exported application is: auto (detected from its shape), tsgi (environ, startResponse), node (a node:http handler, Express, Koa, Fastify) or fetch (a fetch handler or an object with fetch, such as Hono).',
});

export const overrideGlobalObjects = defineSetting<boolean>({
  name: 'overrideGlobalObjects',
  section: 'workers',
  type: 'boolean',
  default: true,
  doc: "For a fetch handler (interface fetch): replace globalThis.Response in the worker with tsgi's lighter Response, which is sent without building Node's Response (as @hono/node-server does). --no-override-global-objects leaves the global alone.",
});
