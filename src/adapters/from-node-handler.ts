// fromNodeHandler: a node:http request handler — (req, res) as http.createServer takes it:
// Express, Koa's app.callback(), connect, Fastify through serverFactory — as a tsgi
// application. The request still arrives through the native parser and the response
// leaves through the native framing; the adapter only translates objects.
import type http from 'node:http';
import type { App, Body, Environ, StartResponse } from '../types';
import { NodeExchange } from './node-exchange';

/** What http.createServer takes: Express and connect apps, Koa's app.callback(), Fastify's serverFactory handler. */
export type NodeHandler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

function describe(handler: unknown): string {
  if (handler === null || typeof handler !== 'object') return handler === null ? 'null' : typeof handler;
  const h = handler as Record<string, unknown>;
  if (typeof h.callback === 'function') return 'an object with callback() (a Koa application? pass app.callback())';
  if (typeof h.routing === 'function' || typeof h.inject === 'function') {
    return 'an object with routing()/inject() (a Fastify instance? take the handler from its serverFactory option)';
  }
  if (typeof h.fetch === 'function') return 'an object with fetch() (a fetch handler, not a node:http one)';
  return 'an object';
}

/**
 * A tsgi application that runs `handler` as node:http would: `req` is an
 * http.IncomingMessage and `res` an http.ServerResponse (both inherit from node's own,
 * so frameworks that replace their prototypes work unchanged).
 */
export function fromNodeHandler(handler: NodeHandler): App {
  if (typeof handler !== 'function') {
    throw new TypeError(`fromNodeHandler() takes a node:http request handler (req, res) => void, got ${describe(handler)}`);
  }
  return function nodeHandlerApp(environ: Environ, startResponse: StartResponse): Body | Promise<Body> {
    const ex = new NodeExchange(environ, startResponse);
    let r: unknown;
    try {
      r = handler(ex.req, ex.res);
    } catch (e) {
      ex.abandon();
      throw e;
    }
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
      // A handler that returns a promise (an async function) and rejects has failed the request.
      (r as PromiseLike<unknown>).then(undefined, (e: unknown) => ex.fail(e));
    }
    // A thenable the gateway awaits like a promise, when the handler has not ended yet.
    return ex.outcome() as Body | Promise<Body>;
  };
}
