// Parsing of forwarding headers: RFC 7239 `Forwarded` and the X-Forwarded-* values.
import { parseIp } from './ip';

export type ForwardedElement = Record<string, string>;

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const QUOTED = /"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\x09\x20-\x7e\x80-\xff])*)"/y;

/** The elements of a Forwarded value (parameter names lower-cased), or null when malformed. */
export function parseForwarded(value: string): ForwardedElement[] | null {
  const out: ForwardedElement[] = [];
  let el: ForwardedElement = {};
  let at = 0;
  const n = value.length;
  const ows = () => { while (at < n && (value[at] === ' ' || value[at] === '\t')) at++; };
  ows();
  if (at === n) return null;
  for (;;) {
    ows();
    TOKEN.lastIndex = at;
    const name = TOKEN.exec(value);
    if (name === null) return null;
    at = TOKEN.lastIndex;
    if (value[at] !== '=') return null;
    at++;
    let v: string;
    if (value[at] === '"') {
      QUOTED.lastIndex = at;
      const q = QUOTED.exec(value);
      if (q === null) return null;
      v = q[1].replace(/\\(.)/g, '$1');
      at = QUOTED.lastIndex;
    } else {
      TOKEN.lastIndex = at;
      const t = TOKEN.exec(value);
      if (t === null) return null;
      v = t[0];
      at = TOKEN.lastIndex;
    }
    const key = name[0].toLowerCase();
    if (key in el) return null;          // a parameter given twice in one element
    el[key] = v;
    ows();
    if (at === n) { out.push(el); return out; }
    if (value[at] === ';') { at++; continue; }
    if (value[at] === ',') {
      out.push(el);
      el = {};
      at++;
      ows();
      if (at === n) return null;
      continue;
    }
    return null;
  }
}

/** The address of a node ('192.0.2.1', '"[2001:db8::1]:4711"', '1.2.3.4:80'), or null (unknown, obfuscated, malformed). */
export function nodeAddress(node: string): string | null {
  let s = node.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    const rest = s.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    s = s.slice(1, end);
    return parseIp(s) !== null && s.includes(':') ? s.toLowerCase() : null;
  }
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$/.exec(s);
  if (m !== null) return parseIp(m[1]) !== null ? m[1] : null;
  // A bare IPv6 address (X-Forwarded-For carries them unbracketed).
  return s.includes(':') && parseIp(s) !== null ? s.toLowerCase() : null;
}

/** A Host value split as [hostname, port ('' when absent)], or null when it is not a valid host. */
export function splitHost(host: string): [string, string] | null {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(host.trim());
  if (m === null) return null;
  if (m[1].startsWith('[') && parseIp(m[1]) === null) return null;
  if (m[2] !== undefined && !validPort(m[2])) return null;
  return [m[1], m[2] ?? ''];
}

export function validPort(p: string): boolean {
  return /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
}

/** A forwarded path prefix as a native (decoded, latin-1) string without a trailing '/', or null when unusable. */
export function decodePrefix(prefix: string): string | null {
  const p = prefix.trim();
  if (!p.startsWith('/') || !/^[\x21-\x7e]*$/.test(p) || /[?#\\]/.test(p)) return null;
  let bytes: Buffer;
  try {
    const parts: number[] = [];
    for (let i = 0; i < p.length; i++) {
      if (p[i] === '%') {
        const h = p.slice(i + 1, i + 3);
        if (!/^[0-9A-Fa-f]{2}$/.test(h)) return null;
        parts.push(parseInt(h, 16));
        i += 2;
      } else parts.push(p.charCodeAt(i));
    }
    bytes = Buffer.from(parts);
  } catch {
    return null;
  }
  const s = bytes.toString('latin1');
  if (s.includes('\0') || s.includes('\\') || s.split('/').some((seg) => seg === '.' || seg === '..')) return null;
  return s.replace(/\/+$/, '');
}
