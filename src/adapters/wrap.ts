// The node:http handler adapter that detection hands Express, Koa, connect and Fastify
// apps to. It lives in from-node-handler.ts; looked up here, in one place, so detection
// does not depend on how that module is built.
import type { App } from '../types';

/** node:http's request listener: (req, res) => void. */
export type NodeHandler = (req: never, res: never) => unknown;

/** fromNodeHandler, or undefined when this build has no node:http adapter. */
export function nodeWrapper(): ((handler: NodeHandler) => App) | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('./from-node-handler') as { fromNodeHandler?: (handler: NodeHandler) => App };
    return typeof mod.fromNodeHandler === 'function' ? mod.fromNodeHandler : undefined;
  } catch (e) {
    if ((e as { code?: string }).code === 'MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}
