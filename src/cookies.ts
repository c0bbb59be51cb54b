// Cookies: Set-Cookie serialisation with every attribute checked (RFC 6265bis), and a
// lenient Cookie header parser. Values are percent-encoded (UTF-8) so nothing a caller
// passes can end the header or add an attribute.
import { ApplicationError } from './errors';
import { TOKEN, describeValue } from './http-syntax';

export interface CookieOptions {
  /** Seconds until the cookie expires (Max-Age); 0 or less expires it now. */
  maxAge?: number;
  /** Expiry date (Expires). */
  expires?: Date;
  /** Path attribute. */
  path?: string;
  /** Domain attribute. */
  domain?: string;
  /** Sent over HTTPS only. */
  secure?: boolean;
  /** Hidden from document.cookie. */
  httpOnly?: boolean;
  /** 'Strict' | 'Lax' | 'None' (case-insensitive); 'None' requires secure. */
  sameSite?: 'Strict' | 'Lax' | 'None' | 'strict' | 'lax' | 'none';
  /** CHIPS partitioned cookie; requires secure. */
  partitioned?: boolean;
}

function invalid(message: string): ApplicationError {
  return new ApplicationError('TSGI_ERR_INVALID_COOKIE', message);
}

// An attribute value: visible ASCII and space without ';' (it would start a new attribute).
const ATTRIBUTE_VALUE = /^[\x20-\x3a\x3c-\x7e]*$/;
const DOMAIN = /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Percent-encodes every character that is not a cookie-octet (and '%'), as UTF-8. */
export function encodeCookieValue(value: string): string {
  // cookie-octet: 0x21, 0x23-0x2B, 0x2D-0x3A, 0x3C-0x5B, 0x5D-0x7E; '%' is encoded so decoding is exact.
  return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD').replace(/[^\x21\x23-\x24\x26-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]/gu, encodeURIComponent);
}

/** The Set-Cookie header value for `name=value` with `options`. Throws ApplicationError TSGI_ERR_INVALID_COOKIE. */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw invalid(`setCookie: the cookie name ${describeValue(name)} is not a token (letters, digits and !#$%&'*+-.^_\`|~; RFC 6265 §4.1.1)`);
  }
  if (typeof value !== 'string') throw invalid(`setCookie: the value of cookie ${name} must be a string, got ${describeValue(value)}`);
  let out = `${name}=${encodeCookieValue(value)}`;
  const o = options;
  if (o.maxAge !== undefined) {
    if (typeof o.maxAge !== 'number' || !Number.isFinite(o.maxAge)) throw invalid(`setCookie: maxAge must be a finite number of seconds, got ${describeValue(o.maxAge)}`);
    out += `; Max-Age=${Math.max(0, Math.floor(o.maxAge))}`;
  }
  if (o.expires !== undefined) {
    if (!(o.expires instanceof Date) || Number.isNaN(o.expires.getTime())) throw invalid('setCookie: expires must be a valid Date');
    out += `; Expires=${o.expires.toUTCString()}`;
  }
  if (o.domain !== undefined) {
    if (typeof o.domain !== 'string' || !DOMAIN.test(o.domain)) throw invalid(`setCookie: domain ${describeValue(o.domain)} is not a host name (letters, digits, '-' and '.')`);
    out += `; Domain=${o.domain}`;
  }
  if (o.path !== undefined) {
    if (typeof o.path !== 'string' || !ATTRIBUTE_VALUE.test(o.path)) throw invalid(`setCookie: path ${describeValue(o.path)} must be visible ASCII without ';' or control characters (percent-encode it)`);
    out += `; Path=${o.path}`;
  }
  if (o.secure) out += '; Secure';
  if (o.httpOnly) out += '; HttpOnly';
  if (o.sameSite !== undefined) {
    const s = typeof o.sameSite === 'string' ? o.sameSite.toLowerCase() : '';
    if (s !== 'strict' && s !== 'lax' && s !== 'none') throw invalid(`setCookie: sameSite must be 'Strict', 'Lax' or 'None', got ${describeValue(o.sameSite)}`);
    if (s === 'none' && !o.secure) throw invalid(`setCookie: cookie ${name} has SameSite=None without secure: browsers refuse it; set secure: true`);
    out += `; SameSite=${s[0].toUpperCase()}${s.slice(1)}`;
  }
  if (o.partitioned) {
    if (!o.secure) throw invalid(`setCookie: cookie ${name} is partitioned without secure: browsers refuse it; set secure: true`);
    out += '; Partitioned';
  }
  if (name.startsWith('__Secure-') && !o.secure) throw invalid(`setCookie: a __Secure- cookie (${name}) must be secure`);
  if (name.startsWith('__Host-') && (!o.secure || o.path !== '/' || o.domain !== undefined)) {
    throw invalid(`setCookie: a __Host- cookie (${name}) must be secure, have path '/' and no domain`);
  }
  return out;
}

/**
 * Parses a Cookie header: `a=1; b=2`. Lenient: pairs without '=' or with an empty name are
 * skipped, surrounding quotes are removed, a bad percent-escape leaves the value as sent;
 * the first of repeated names wins (the most specific path, as browsers order them).
 */
export function parseCookies(header: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    if (k === '' || out.has(k)) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    try { out.set(k, decodeURIComponent(v)); } catch { out.set(k, v); }
  }
  return out;
}
