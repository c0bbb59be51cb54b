// proxyFix({ trustedProxies })(app): takes the client's address, scheme, host, port and
// path prefix from forwarding headers, only when the connection comes from a trusted proxy.
//
// The rule (as nginx's real_ip_recursive): walk the forwarded-for list from the right,
// skipping addresses that are themselves trusted proxies; the first untrusted address is
// the client (if every address is trusted, the leftmost). The other values are taken
// from the same hop: for RFC 7239 `Forwarded`, the element that names the client; for
// X-Forwarded-Proto/-Host/-Port/-Prefix, the member as many places from the right as the
// number of proxies the request passed (or the only member when a proxy set it whole).
// Anything malformed is ignored, never thrown.
import type { App, Environ, StartResponse } from '../types';
import { decodePrefix, nodeAddress, parseForwarded, splitHost, validPort } from './forwarded';
import { requestHeader, splitList, type Middleware } from './headers';
import { AddressList, type AddressSet } from './ip';

export interface ProxyFixOptions {
  /** Proxy addresses and CIDR ranges whose forwarding headers are believed ('127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8'), and 'unix' for Unix-socket peers. */
  trustedProxies: string | string[];
  /** Read RFC 7239 `Forwarded` (preferred when present and well-formed). Default true. */
  forwarded?: boolean;
  /** Read X-Forwarded-For/-Proto/-Host/-Port/-Prefix. Default true. */
  xForwarded?: boolean;
}

/** Where proxyFix keeps the values it replaced. */
export const PROXY_FIX_ORIG = 'tsgi.proxy_fix.orig';

export interface ProxyFixOriginal {
  REMOTE_ADDR: string;
  'wsgi.url_scheme': string;
  HTTP_HOST: string | undefined;
  SERVER_NAME: string;
  SERVER_PORT: string;
  SCRIPT_NAME: string;
}

const KNOWN_OPTIONS = new Set(['trustedProxies', 'forwarded', 'xForwarded']);

const X_ONLY = ['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port'];
const X_ONLY_WITH_PREFIX = [...X_ONLY, 'x-forwarded-prefix'];

interface Hop { for: string | null; proto?: string; host?: string; port?: string; prefix?: string }

export function proxyFix(options: ProxyFixOptions): Middleware {
  if (options === null || typeof options !== 'object') throw new TypeError("proxyFix() takes { trustedProxies: ['127.0.0.1', ...] }");
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(k)) throw new TypeError(`proxyFix(): unknown option ${JSON.stringify(k)}; known: ${[...KNOWN_OPTIONS].join(', ')}`);
  }
  const list = typeof options.trustedProxies === 'string' ? [options.trustedProxies] : options.trustedProxies;
  if (!Array.isArray(list) || list.some((r) => typeof r !== 'string')) {
    throw new TypeError("proxyFix(): trustedProxies must be a list of addresses or CIDR ranges, e.g. ['127.0.0.1', '10.0.0.0/8']");
  }
  // 'unix' trusts connections on Unix sockets (REMOTE_ADDR is '' there): a proxy on the same machine.
  const trustUnix = list.includes('unix');
  const trusted = new AddressList(list.filter((r) => r !== 'unix'));
  const useForwarded = options.forwarded ?? true;
  const useX = options.xForwarded ?? true;

  return (app: App): App => (environ: Environ, startResponse: StartResponse) => {
    if (trusted.has(environ.REMOTE_ADDR) || (trustUnix && environ.REMOTE_ADDR === '')) {
      try {
        applyForwarded(environ, trusted, { forwarded: useForwarded, xForwarded: useX, prefix: true, original: true });
      } catch {
        // Malformed input never stops a request; the environ is left as the server built it.
      }
    }
    return app(environ, startResponse);
  };
}

function hopsFromForwarded(value: string): Hop[] | null {
  const els = parseForwarded(value);
  if (els === null) return null;
  return els.map((e) => ({ for: e.for === undefined ? null : nodeAddress(e.for), proto: e.proto, host: e.host }));
}

/** The X-Forwarded-* value for the hop `used` places from the right (see the rule above). */
function pick(value: string, used: number): string | undefined {
  const members = splitList(value);
  if (members.length === 0) return undefined;
  return members.length >= used ? members[members.length - used] : members[0];
}

/** Which forwarding headers applyForwarded reads. */
export interface ForwardedSources {
  /** RFC 7239 Forwarded (preferred when present and well-formed). */
  forwarded: boolean;
  /** X-Forwarded-For/-Proto/-Host/-Port (and -Prefix when prefix is true). */
  xForwarded: boolean;
  /** X-Forwarded-Prefix moves into SCRIPT_NAME. */
  prefix: boolean;
  /** Keep the replaced values in environ[PROXY_FIX_ORIG] (proxyFix does). */
  original: boolean;
}

/**
 * Rewrites the environ from the forwarding headers of a request whose peer is trusted
 * (the caller checked): the trust walk above over `trusted`. Used by proxyFix() and by
 * the server's forwardedAllowIps. Malformed values are ignored; may throw only on a bug.
 */
export function applyForwarded(environ: Environ, trusted: AddressSet, sources: ForwardedSources): void {
  const useForwarded = sources.forwarded;
  const useX = sources.xForwarded;
  let hops: Hop[] | null = null;
  let fromX = false;
  if (useForwarded) {
    const f = requestHeader(environ, 'forwarded');
    if (f !== '') hops = hopsFromForwarded(f);
  }
  if (hops === null && useX) {
    const xff = requestHeader(environ, 'x-forwarded-for');
    if (xff !== '') {
      hops = splitList(xff).map((a) => ({ for: nodeAddress(a) }));
      fromX = true;
    } else if ((sources.prefix ? X_ONLY_WITH_PREFIX : X_ONLY).some((h) => requestHeader(environ, h) !== '')) {
      hops = [];
      fromX = true;
    }
  }
  if (hops === null) return;

  // The client's hop: the first untrusted address from the right.
  let sel = hops.length - 1;
  while (sel > 0) {
    const a = hops[sel].for;
    if (a === null || !trusted.has(a)) break;
    sel--;
  }
  const used = hops.length - sel;          // proxies passed, the one connected to us included
  let hop: Hop = sel >= 0 ? hops[sel] : { for: null };
  if (fromX) {
    const x = (name: string) => {
      const v = requestHeader(environ, name);
      return v === '' ? undefined : pick(v, Math.max(1, used));
    };
    hop = { for: hop.for, proto: x('x-forwarded-proto'), host: x('x-forwarded-host'), port: x('x-forwarded-port'), prefix: sources.prefix ? x('x-forwarded-prefix') : undefined };
  } else if (useX && sources.prefix) {
    const v = requestHeader(environ, 'x-forwarded-prefix');
    if (v !== '') hop.prefix = pick(v, Math.max(1, used));
  }

  const orig: ProxyFixOriginal = {
    REMOTE_ADDR: environ.REMOTE_ADDR,
    'wsgi.url_scheme': environ['wsgi.url_scheme'],
    HTTP_HOST: typeof environ.HTTP_HOST === 'string' ? environ.HTTP_HOST : undefined,
    SERVER_NAME: environ.SERVER_NAME,
    SERVER_PORT: environ.SERVER_PORT,
    SCRIPT_NAME: environ.SCRIPT_NAME,
  };
  let changed = false;
  if (hop.for !== null && hop.for !== undefined) { environ.REMOTE_ADDR = hop.for; changed = true; }
  let schemeSet = false;
  if (hop.proto !== undefined && /^https?$/i.test(hop.proto.trim())) {
    environ['wsgi.url_scheme'] = hop.proto.trim().toLowerCase();
    schemeSet = true;
    changed = true;
  }
  let port: string | undefined;
  let hostSet = false;
  if (hop.host !== undefined) {
    const h = splitHost(hop.host);
    if (h !== null) {
      environ.HTTP_HOST = hop.host.trim();
      environ.SERVER_NAME = h[0].startsWith('[') ? h[0].slice(1, -1) : h[0];
      if (h[1] !== '') port = h[1];
      hostSet = true;
      changed = true;
    }
  }
  if (hop.port !== undefined && validPort(hop.port.trim())) {
    port = hop.port.trim();
    const host = typeof environ.HTTP_HOST === 'string' ? splitHost(environ.HTTP_HOST) : null;
    if (host !== null) environ.HTTP_HOST = host[0] + (port === defaultPort(environ['wsgi.url_scheme']) ? '' : ':' + port);
  }
  if (port === undefined && (schemeSet || hostSet)) {
    const host = typeof environ.HTTP_HOST === 'string' ? splitHost(environ.HTTP_HOST) : null;
    port = host !== null && host[1] !== '' ? host[1] : defaultPort(environ['wsgi.url_scheme']);
  }
  if (port !== undefined && port !== environ.SERVER_PORT) { environ.SERVER_PORT = port; changed = true; }
  if (hop.prefix !== undefined) {
    const p = decodePrefix(hop.prefix);
    if (p !== null && p !== '') { environ.SCRIPT_NAME = p + environ.SCRIPT_NAME; changed = true; }
  }
  if (changed && sources.original) environ[PROXY_FIX_ORIG] = orig;
}

function defaultPort(scheme: string): string {
  return scheme === 'https' ? '443' : '80';
}
