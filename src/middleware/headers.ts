// Small helpers the middleware share for reading requests and editing response heads.
import type { Environ, ResponseHeaders } from '../types';

/** A function from an application to an application. */
export type Middleware = (app: import('../types').App) => import('../types').App;

/** The value of a request header ('' when absent), by its HTTP name. */
export function requestHeader(environ: Environ, name: string): string {
  const key = name === 'content-type' ? 'CONTENT_TYPE' : name === 'content-length' ? 'CONTENT_LENGTH'
    : 'HTTP_' + name.toUpperCase().replace(/-/g, '_');
  const v = environ[key];
  return typeof v === 'string' ? v : '';
}

/** The first value of a response header (case-insensitive), or undefined. */
export function getHeader(headers: ResponseHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The headers without any named `name`. */
export function withoutHeader(headers: ResponseHeaders, name: string): ResponseHeaders {
  const lower = name.toLowerCase();
  return headers.filter(([k]) => k.toLowerCase() !== lower);
}

/** Adds `token` to the Vary header (kept once; `Vary: *` left alone). */
export function addVary(headers: ResponseHeaders, token: string): ResponseHeaders {
  const lower = token.toLowerCase();
  let found = false;
  const out: ResponseHeaders = [];
  for (const [k, v] of headers) {
    if (k.toLowerCase() !== 'vary') { out.push([k, v]); continue; }
    const parts = v.split(',').map((p) => p.trim()).filter((p) => p !== '');
    if (parts.some((p) => p === '*' || p.toLowerCase() === lower)) { found = true; out.push([k, v]); continue; }
    if (!found) {
      found = true;
      out.push([k, [...parts, token].join(', ')]);
    } else out.push([k, v]);
  }
  if (!found) out.push(['Vary', token]);
  return out;
}

/** The numeric code of a status line such as '200 OK' (0 when it is not one). */
export function statusCode(status: string): number {
  const n = Number(status.slice(0, 3));
  return Number.isInteger(n) && n >= 100 && n <= 999 ? n : 0;
}

/** Splits a comma-separated header value into its trimmed, non-empty members. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  for (const p of value.split(',')) {
    const t = p.trim();
    if (t !== '') out.push(t);
  }
  return out;
}

/** A small plain-text response. */
export function plain(startResponse: (s: string, h: ResponseHeaders) => unknown, status: string,
                      text: string, extra: ResponseHeaders = [], head = false): string[] {
  const body = text + '\n';
  startResponse(status, [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(Buffer.byteLength(body))], ...extra]);
  return head ? [] : [body];
}
