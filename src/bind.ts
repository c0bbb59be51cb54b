// Bind strings, shared by the embedding API and the CLI:
//   'HOST:PORT'    a TCP address; HOST may be a name, an IPv4 address, or empty (every address)
//   '[IPV6]:PORT'  a TCP address on an IPv6 literal, e.g. '[::1]:8000', '[::]:8000'
//   'PORT'         the same as ':PORT'
//   'unix:PATH'    a Unix domain socket
//   'fd://N'       a listening socket inherited from the process manager (file descriptor N)
// A scheme in front says what the listener speaks (plain HTTP/1.1 without one):
//   'https://HOST:PORT', 'https+unix:PATH', 'https+fd://N'   HTTP/1.1 over TLS
//   'uwsgi://HOST:PORT', 'uwsgi+unix:PATH', 'uwsgi+fd://N'   the uwsgi protocol (nginx uwsgi_pass)
//   'http://HOST:PORT', 'http+unix:PATH', 'http+fd://N'      plain HTTP/1.1, spelled out
import { OptionError } from './errors';

/** What a listener speaks once a connection is accepted (TLS, when on, wraps it). */
export type ListenerProtocol = 'http' | 'uwsgi';

export type BindLocation =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'fd'; readonly fd: number };

export type BindAddress = BindLocation & {
  readonly protocol: ListenerProtocol;
  /** HTTP over TLS (an https bind). */
  readonly tls: boolean;
};

const FORMS = "use HOST:PORT, [IPV6]:PORT, :PORT, unix:PATH or fd://N, optionally after https:// or uwsgi:// (https+unix:PATH, uwsgi+unix:PATH, https+fd://N, uwsgi+fd://N)";

interface Scheme { readonly protocol: ListenerProtocol; readonly tls: boolean }
const SCHEMES: Record<string, Scheme> = {
  http: { protocol: 'http', tls: false },
  https: { protocol: 'http', tls: true },
  uwsgi: { protocol: 'uwsgi', tls: false },
};

function bad(text: string, why: string): OptionError {
  return new OptionError('TSGI_ERR_INVALID_BIND', `bind ${JSON.stringify(text)}: ${why}; ${FORMS}`);
}

function parsePort(text: string, digits: string): number {
  if (!/^\d{1,5}$/.test(digits)) throw bad(text, `the port ${JSON.stringify(digits)} is not a number`);
  const port = Number(digits);
  if (port > 65535) throw bad(text, `the port ${port} is above 65535`);
  return port;
}

/** Parses one bind string; throws an OptionError (TSGI_ERR_INVALID_BIND) that says what is wrong. */
export function parseBind(text: string): BindAddress {
  if (typeof text !== 'string') throw bad(String(text), 'a bind address must be a string');
  let s = text.trim();
  if (s === '') throw bad(text, 'it is empty');
  let scheme: Scheme = SCHEMES.http;
  // 'https://…', 'uwsgi+unix:…', 'https+fd://…': a scheme, then a location.
  const m = /^([A-Za-z][A-Za-z0-9.-]*)(?:(\+)(?=unix:|fd:\/\/)|:\/\/(?!\/))/.exec(s);
  if (m !== null && m[1].toLowerCase() !== 'fd') {
    const name = m[1].toLowerCase();
    const found = SCHEMES[name];
    if (found === undefined) throw bad(text, `the scheme ${JSON.stringify(m[1])} is not known (http, https or uwsgi)`);
    scheme = found;
    s = s.slice(m[0].length);
    if (m[2] === undefined && (s.startsWith('unix:') || s.startsWith('fd://'))) {
      throw bad(text, `write ${name}+${s.startsWith('unix:') ? 'unix:PATH' : 'fd://N'} for a ${s.startsWith('unix:') ? 'Unix socket' : 'file descriptor'}`);
    }
    if (s === '') throw bad(text, 'the address is missing after the scheme');
  }
  return Object.freeze({ ...parseLocation(text, s), protocol: scheme.protocol, tls: scheme.tls });
}

function parseLocation(text: string, s: string): BindLocation {
  if (s.startsWith('unix:')) {
    const path = s.slice(5).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw bad(text, 'the socket path is missing');
    if (path.includes('\0')) throw bad(text, 'the socket path contains NUL');
    return { kind: 'unix', path };
  }
  if (s.startsWith('fd://')) {
    const n = s.slice(5);
    if (!/^\d+$/.test(n) || !Number.isSafeInteger(Number(n))) throw bad(text, `the file descriptor ${JSON.stringify(n)} is not a number`);
    return { kind: 'fd', fd: Number(n) };
  }
  if (s.endsWith('/')) throw bad(text, 'a bind address has no path');
  if (/^\d+$/.test(s)) return { kind: 'tcp', host: '', port: parsePort(text, s) };
  if (s.startsWith('[')) {
    const v6 = /^\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]:(.*)$/.exec(s);
    if (!v6) throw bad(text, 'an IPv6 address must be written [ADDRESS]:PORT');
    return { kind: 'tcp', host: v6[1], port: parsePort(text, v6[2]) };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) throw bad(text, 'the port is missing');
  const host = s.slice(0, colon);
  if (host.includes(':')) throw bad(text, 'an IPv6 address must be in brackets');
  if (!/^[A-Za-z0-9.\-_]*$/.test(host)) throw bad(text, `the host ${JSON.stringify(host)} is not a name or an address`);
  return { kind: 'tcp', host, port: parsePort(text, s.slice(colon + 1)) };
}

/** The scheme prefix of a bind ('', 'https://', 'uwsgi+' …) for the given location kind. */
function prefix(b: Partial<Scheme>, kind: BindLocation['kind']): string {
  const name = b.tls ? 'https' : b.protocol === 'uwsgi' ? 'uwsgi' : '';
  if (name === '') return '';
  return kind === 'tcp' ? `${name}://` : `${name}+`;
}

/** The canonical text of a bind address (what parseBind reads back). */
export function formatBind(b: BindLocation & Partial<Scheme>): string {
  const p = prefix(b, b.kind);
  switch (b.kind) {
    case 'unix': return `${p}unix:${b.path}`;
    case 'fd': return `${p}fd://${b.fd}`;
    case 'tcp': return p + (b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`);
  }
}
