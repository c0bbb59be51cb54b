// What kind of application a module exports, and the tsgi application that serves it.
// `--interface auto` (the default) guesses from the export's shape; tsgi, node or fetch
// say it outright. The guess, in order:
//   1. a Fastify instance (routing, ready and server)      → node, through fastify.routing
//   2. a Koa app (an object with callback() and use())     → node, through app.callback()
//   3. an object with a fetch() method (Hono, Workers)     → fetch
//   4. a function with handle() and set() (Express)        → node
//      a function with handle() and use() (connect)        → node
//      a function named handleRequest (Koa's callback())   → node
//   5. a function of one argument, or named fetch          → fetch
//   6. a function whose parameters read (req, res[, next]) → node;
//      (request, env[, ctx])                               → fetch
//   7. any other function                                  → tsgi (environ, startResponse)
// A tsgi app and a plain node:http handler are both functions of two arguments; only the
// parameter names tell them apart, and minified code hides those: pass --interface node.
import { AppLoadError } from '../app-loader';
import type { App } from '../types';
import { fromFetch } from './from-fetch';
import type { FetchHandler, FetchHandlerObject } from './fetch-types';
import { fromNodeHandler, type NodeHandler } from './from-node-handler';

export type AppInterface = 'tsgi' | 'node' | 'fetch';
export const INTERFACES = ['auto', 'tsgi', 'node', 'fetch'] as const;
export type InterfaceSetting = (typeof INTERFACES)[number];

export interface Detection {
  interface: AppInterface;
  /** What the export looks like: 'Hono app', 'Express app', 'fetch function', … */
  kind: string;
  /** Why that guess (or 'set by --interface'). */
  why: string;
}

type AnyFn = (...args: unknown[]) => unknown;

function has(v: unknown, name: string): boolean {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as Record<string, unknown>)[name] === 'function';
}

function isFastify(v: unknown): boolean {
  return has(v, 'routing') && has(v, 'ready') && v !== null && typeof v === 'object' && 'server' in (v as object);
}

function isKoa(v: unknown): boolean {
  return v !== null && typeof v === 'object' && has(v, 'callback') && has(v, 'use') && !has(v, 'fetch');
}

/** The names of a function's first parameters, from its source ('' where unreadable). */
export function parameterNames(fn: AnyFn): string[] {
  let src: string;
  try { src = Function.prototype.toString.call(fn); } catch { return []; }
  const m = /^(?:async\s*)?(?:function\b\s*\*?\s*[\w$]*\s*)?\(([^)]*)\)/.exec(src) ?? /^(?:async\s+)?([\w$]+)\s*=>/.exec(src)
    ?? /^(?:async\s+)?\*?\s*[\w$]+\s*\(([^)]*)\)/.exec(src);
  if (!m) return [];
  return m[1].split(',').map((p) => p.trim().replace(/\s*=.*$/, '').replace(/^\.\.\./, ''));
}

function objectKind(v: object): string {
  const name = v.constructor?.name;
  if (name === 'Hono' || name === 'OpenAPIHono') return 'Hono app';
  return name && name !== 'Object' ? `${name} object with a fetch method` : 'object with a fetch method';
}

/** Guesses the interface of an export. Throws AppLoadError when it is no application at all. */
export function detectInterface(exported: unknown, where = 'the export'): Detection {
  if (isFastify(exported)) return { interface: 'node', kind: 'Fastify instance', why: 'it has routing(), ready() and server' };
  if (isKoa(exported)) return { interface: 'node', kind: 'Koa app', why: 'it has callback() and use()' };
  if (exported !== null && typeof exported === 'object' && has(exported, 'fetch')) {
    return { interface: 'fetch', kind: objectKind(exported), why: 'it has a fetch() method' };
  }
  if (typeof exported !== 'function') {
    throw new AppLoadError(`${where} is ${exported === null ? 'null' : typeof exported}, not an application: export a tsgi app (environ, startResponse) => body, a node:http handler (req, res), a fetch handler (request) => Response, or an object with a fetch method such as a Hono app`);
  }
  const fn = exported as AnyFn;
  if (has(fn, 'handle') && has(fn, 'set')) return { interface: 'node', kind: 'Express app', why: 'it has handle() and set()' };
  if (has(fn, 'handle') && has(fn, 'use')) return { interface: 'node', kind: 'connect app', why: 'it has handle() and use()' };
  if (fn.name === 'handleRequest') return { interface: 'node', kind: 'Koa callback', why: 'it is named handleRequest, as app.callback() returns' };
  if (fn.name === 'fetch') return { interface: 'fetch', kind: 'fetch function', why: 'it is named fetch' };
  if (fn.length === 1) return { interface: 'fetch', kind: 'fetch function', why: 'it takes one argument (request)' };
  const [first = '', second = ''] = parameterNames(fn);
  if (/^(req|request|incomingMessage|msg)$/i.test(first) && /^(res|response|serverResponse|reply)$/i.test(second)) {
    return { interface: 'node', kind: 'node:http handler', why: `its parameters are (${first}, ${second})` };
  }
  if (/^(req|request)$/i.test(first) && /^(env|bindings|ctx|context|info|server)$/i.test(second)) {
    return { interface: 'fetch', kind: 'fetch function', why: `its parameters are (${first}, ${second})` };
  }
  return {
    interface: 'tsgi', kind: 'tsgi app',
    why: fn.length === 2 ? 'a function of two arguments is taken as (environ, startResponse); use --interface node for a node:http handler' : 'a function that matches no other shape',
  };
}

/** How a detected export is adapted. */
export interface AdaptOptions {
  /** fromFetch's overrideGlobalObjects for a fetch handler (default true). */
  overrideGlobalObjects?: boolean;
}

/** A tsgi application serving `exported` as `detection` says (for Fastify, after ready()). */
export async function adaptExport(exported: unknown, detection: Detection, where = 'the export', options: AdaptOptions = {}): Promise<App> {
  switch (detection.interface) {
    case 'tsgi':
      if (typeof exported !== 'function') throw new AppLoadError(`${where} is ${exported === null ? 'null' : typeof exported}, not a tsgi application function (environ, startResponse) => body`);
      return exported as App;
    case 'fetch':
      if (typeof exported !== 'function' && !has(exported, 'fetch')) {
        throw new AppLoadError(`${where} is neither a fetch function (request) => Response nor an object with a fetch method, so --interface fetch cannot serve it`);
      }
      return fromFetch(exported as FetchHandler | FetchHandlerObject, { overrideGlobalObjects: options.overrideGlobalObjects !== false });
    case 'node': {
      let handler: NodeHandler;
      if (isFastify(exported)) {
        const fastify = exported as { ready(): Promise<unknown>; routing: NodeHandler };
        await fastify.ready();
        handler = ((req: never, res: never) => fastify.routing(req, res)) as NodeHandler;
      } else if (isKoa(exported)) {
        handler = (exported as { callback(): NodeHandler }).callback();
      } else if (typeof exported === 'function') {
        handler = exported as NodeHandler;
      } else {
        throw new AppLoadError(`${where} is ${exported === null ? 'null' : typeof exported}, not a node:http handler (req, res), a Koa app or a Fastify instance, so --interface node cannot serve it`);
      }
      return fromNodeHandler(handler);
    }
  }
}

/** The interface `setting` names for `exported`: detected for 'auto', else as set (with the detected kind when they agree). */
export function describeExport(exported: unknown, setting: InterfaceSetting | string = 'auto', where = 'the export'): Detection {
  if (setting === 'auto') return detectInterface(exported, where);
  if (setting !== 'tsgi' && setting !== 'node' && setting !== 'fetch') {
    throw new AppLoadError(`unknown interface ${JSON.stringify(setting)}: use one of ${INTERFACES.join(', ')}`);
  }
  let kind = setting === 'tsgi' ? 'tsgi app' : setting === 'fetch' ? 'fetch handler' : 'node:http handler';
  try {
    const guess = detectInterface(exported, where);
    if (guess.interface === setting) kind = guess.kind;
  } catch { /* the setting decides */ }
  return { interface: setting, kind, why: 'set by --interface' };
}

/** Detects (or takes from `setting`) the interface and returns the app with what was decided. */
export async function resolveApp(exported: unknown, setting: InterfaceSetting | string = 'auto', where = 'the export', options: AdaptOptions = {}): Promise<{ app: App; detection: Detection }> {
  const detection = describeExport(exported, setting, where);
  return { app: await adaptExport(exported, detection, where, options), detection };
}
