// Bind strings, shared by the embedding API and the CLI:
//   'HOST:PORT'    a TCP address; HOST may be a name, an IPv4 address, or empty (every address)
//   '[IPV6]:PORT'  a TCP address on an IPv6 literal, e.g. '[::1]:8000', '[::]:8000'
//   'PORT'         the same as ':PORT'
//   'unix:PATH'    a Unix domain socket
//   'fd://N'       a listening socket inherited from the process manager (file descriptor N)
import { OptionError } from './errors';

export type BindAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'fd'; readonly fd: number };

const FORMS = "use HOST:PORT, [IPV6]:PORT, :PORT, unix:PATH or fd://N";

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
  const s = text.trim();
  if (s === '') throw bad(text, 'it is empty');
  if (s.startsWith('unix:')) {
    const path = s.slice(5).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw bad(text, 'the socket path is missing');
    if (path.includes('\0')) throw bad(text, 'the socket path contains NUL');
    return Object.freeze({ kind: 'unix', path });
  }
  if (s.startsWith('fd://')) {
    const n = s.slice(5);
    if (!/^\d+$/.test(n) || !Number.isSafeInteger(Number(n))) throw bad(text, `the file descriptor ${JSON.stringify(n)} is not a number`);
    return Object.freeze({ kind: 'fd', fd: Number(n) });
  }
  if (/^\d+$/.test(s)) return Object.freeze({ kind: 'tcp', host: '', port: parsePort(text, s) });
  if (s.startsWith('[')) {
    const m = /^\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]:(.*)$/.exec(s);
    if (!m) throw bad(text, 'an IPv6 address must be written [ADDRESS]:PORT');
    return Object.freeze({ kind: 'tcp', host: m[1], port: parsePort(text, m[2]) });
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) throw bad(text, 'the port is missing');
  const host = s.slice(0, colon);
  if (host.includes(':')) throw bad(text, 'an IPv6 address must be in brackets');
  if (!/^[A-Za-z0-9.\-_]*$/.test(host)) throw bad(text, `the host ${JSON.stringify(host)} is not a name or an address`);
  return Object.freeze({ kind: 'tcp', host, port: parsePort(text, s.slice(colon + 1)) });
}

/** The canonical text of a bind address (what parseBind reads back). */
export function formatBind(b: BindAddress): string {
  switch (b.kind) {
    case 'unix': return `unix:${b.path}`;
    case 'fd': return `fd://${b.fd}`;
    case 'tcp': return b.host.includes(':') ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`;
  }
}
