// How many workers run the application, and when they are replaced.
import { defineSetting } from './setting';

export const workers = defineSetting<number>({
  name: 'workers',
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
  doc: 'Worker threads per worker process, each with its own event loop and copy of the application.',
});

export const timeout = defineSetting<number>({
  name: 'timeout',
  section: 'workers',
  type: 'duration',
  default: 30_000,
  min: 0,
  doc: "A worker whose event loop is blocked this long (no heartbeat) is killed and replaced; e.g. '30s'. 0 disables.",
});

export const harakiri = defineSetting<number>({
  name: 'harakiri',
  section: 'workers',
  type: 'duration',
  default: 0,
  min: 0,
  doc: "A request running longer than this gets its worker killed and replaced; e.g. '60s'. 0 disables.",
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
  doc: "On graceful stop or reload, how long a worker may finish in-flight requests before it is killed; e.g. '30s'.",
});

export const appInterface = defineSetting<string>({
  name: 'interface',
  section: 'workers',
  type: 'string',
  default: 'auto',
  choices: ['auto', 'tsgi', 'node', 'fetch'],
  doc: 'What the exported application is: auto (detected from its shape), tsgi (environ, startResponse), node (a node:http handler, Express, Koa, Fastify) or fetch (a fetch handler or an object with fetch, such as Hono).',
});
