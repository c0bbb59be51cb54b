// The request headers a fetch handler gets from tsgi. Building a Headers object means
// validating and copying every field of the request; most handlers only ask for a few by
// name (Hono's c.req.header('x')). This object answers get() and has() from the environ
// (HTTP_* keys, CONTENT_TYPE, CONTENT_LENGTH) and builds the real Headers on the first
// other use (iteration, set(), forEach(), …), after which everything goes to that.
// It inherits from Headers.prototype, so `instanceof Headers` holds.
import type { Environ } from '../types';
import { requestHeaders } from './fetch-url';

const kEnviron = Symbol('tsgi.environ');
const kReal = Symbol('tsgi.realHeaders');

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field name → environ key, for names asked for before (bounded: names come from code, not clients). */
const keys = new Map<string, string>();
const KEYS_MAX = 512;

/** The environ key holding field `name`, or undefined when only the real Headers can answer (an invalid name, or one with "_", which the environ cannot tell from "-"). */
function environKey(name: string): string | undefined {
  let key = keys.get(name);
  if (key !== undefined) return key;
  if (!TOKEN.test(name) || name.includes('_')) return undefined;
  const lower = name.toLowerCase();
  key = lower === 'content-type' ? 'CONTENT_TYPE' : lower === 'content-length' ? 'CONTENT_LENGTH' : 'HTTP_' + lower.replace(/-/g, '_').toUpperCase();
  if (keys.size < KEYS_MAX) keys.set(name, key);
  return key;
}

export class EnvironHeaders {
  [kEnviron]: Environ;
  [kReal]: Headers | undefined = undefined;

  constructor(environ: Environ) {
    this[kEnviron] = environ;
  }

  /** The real Headers, built on first need from the environ. */
  toHeaders(): Headers {
    return (this[kReal] ??= requestHeaders(this[kEnviron]));
  }

  get(name: string): string | null {
    const real = this[kReal];
    if (real !== undefined || typeof name !== 'string') return this.toHeaders().get(name);
    const key = environKey(name);
    if (key === undefined) return this.toHeaders().get(name);
    const env = this[kEnviron] as Record<string, unknown>;
    const value = env[key];
    if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') {
      // A middleware may have added HTTP_CONTENT_TYPE too: then the real Headers joins them.
      if (env['HTTP_' + key] !== undefined) return this.toHeaders().get(name);
      return typeof value === 'string' && value !== '' ? value : null;
    }
    return typeof value === 'string' ? value : null;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }
}

let prototypeReady = false;

/** Makes EnvironHeaders answer everything else through the real Headers and inherit from Headers.prototype (on first use: touching Headers loads Node's fetch). */
export function prepareEnvironHeaders(): void {
  if (prototypeReady) return;
  prototypeReady = true;
  const own = new Set<string | symbol>(Reflect.ownKeys(EnvironHeaders.prototype));
  for (const key of Reflect.ownKeys(Headers.prototype)) {
    if (own.has(key) || key === 'constructor' || key === Symbol.toStringTag) continue;
    const desc = Object.getOwnPropertyDescriptor(Headers.prototype, key)!;
    if (typeof desc.value !== 'function') continue;
    Object.defineProperty(EnvironHeaders.prototype, key, {
      configurable: true, enumerable: desc.enumerable, writable: true,
      value(this: EnvironHeaders, ...args: unknown[]) {
        const real = this.toHeaders() as unknown as Record<string | symbol, (...a: unknown[]) => unknown>;
        return real[key](...args);
      },
    });
  }
  Object.defineProperty(EnvironHeaders.prototype, Symbol.toStringTag, { value: 'Headers', configurable: true });
  Object.setPrototypeOf(EnvironHeaders.prototype, Headers.prototype);
}
