// HTTP validators and ranges (RFC 9110 §8.8, §13, §14): entity tags, HTTP dates, the
// evaluation order of preconditions, and the Range header for one representation.

/** The tags of an If-Match / If-None-Match value ('*' as the single tag '*'); null when malformed. */
export function parseTags(value: string): string[] | null {
  const v = value.trim();
  if (v === '*') return ['*'];
  const out: string[] = [];
  const re = /\s*((?:W\/)?"[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)/y;
  let at = 0;
  while (at < v.length) {
    re.lastIndex = at;
    const m = re.exec(v);
    if (m === null) return null;
    out.push(m[1]);
    at = re.lastIndex;
  }
  return out;
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** Weak comparison: the opaque parts are equal. */
export function weakMatch(a: string, b: string): boolean {
  return opaque(a) === opaque(b);
}

/** Strong comparison: both strong and equal. */
export function strongMatch(a: string, b: string): boolean {
  return !a.startsWith('W/') && !b.startsWith('W/') && a === b;
}

/** An HTTP date as seconds since the epoch, or NaN (only IMF-fixdate and the obsolete forms Date.parse knows). */
export function parseHttpDate(value: string): number {
  const v = value.trim();
  if (!/^[A-Za-z]{3},? /.test(v) && !/^[A-Za-z]+day, /.test(v)) return NaN;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : NaN;
}

export interface Validators {
  etag: string;
  /** Last modification, whole seconds since the epoch. */
  mtime: number;
}

/** The outcome of the preconditions: 0 to go on, 304 or 412. */
export function evaluatePreconditions(get: (name: string) => string, v: Validators, safe: boolean): 0 | 304 | 412 {
  const ifMatch = get('if-match');
  if (ifMatch !== '') {
    const tags = parseTags(ifMatch);
    if (tags === null || !(tags[0] === '*' || tags.some((t) => strongMatch(t, v.etag)))) return 412;
  } else {
    const ius = get('if-unmodified-since');
    if (ius !== '') {
      const t = parseHttpDate(ius);
      if (!Number.isNaN(t) && v.mtime > t) return 412;
    }
  }
  const inm = get('if-none-match');
  if (inm !== '') {
    const tags = parseTags(inm);
    if (tags !== null && (tags[0] === '*' || tags.some((t) => weakMatch(t, v.etag)))) return safe ? 304 : 412;
  } else if (safe) {
    const ims = get('if-modified-since');
    if (ims !== '') {
      const t = parseHttpDate(ims);
      if (!Number.isNaN(t) && v.mtime <= t) return 304;
    }
  }
  return 0;
}

/** Whether an If-Range value lets the Range apply (a strong ETag match, or the exact Last-Modified date). */
export function ifRangeHolds(value: string, v: Validators): boolean {
  const s = value.trim();
  if (s === '') return true;
  if (s.startsWith('"') || s.startsWith('W/"')) return strongMatch(s, v.etag);
  const t = parseHttpDate(s);
  return !Number.isNaN(t) && t === v.mtime;
}

export type RangeResult =
  | { kind: 'none' }                               // no usable Range: send the whole
  | { kind: 'unsatisfiable' }                      // 416
  | { kind: 'range'; start: number; end: number }; // 206, end inclusive

/**
 * A Range header against a representation of `size` bytes. Syntax errors and units other
 * than bytes are ignored (the whole is sent, RFC 9110 §14.2); several ranges are answered
 * with the whole too unless none of them can be satisfied.
 */
export function parseRange(value: string, size: number): RangeResult {
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(value);
  if (m === null) return { kind: 'none' };
  const specs = m[1].split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0) return { kind: 'none' };
  const ranges: Array<{ start: number; end: number }> = [];
  for (const spec of specs) {
    const r = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (r === null || (r[1] === '' && r[2] === '') || r[1].length > 15 || r[2].length > 15) return { kind: 'none' };
    if (r[1] === '') {
      const n = Number(r[2]);
      if (n === 0 || size === 0) continue;                 // an empty suffix selects nothing
      ranges.push({ start: Math.max(0, size - n), end: size - 1 });
    } else {
      const start = Number(r[1]);
      const last = r[2] === '' ? Infinity : Number(r[2]);
      if (last < start) return { kind: 'none' };           // invalid: the field is ignored
      if (start >= size) continue;
      ranges.push({ start, end: Math.min(last, size - 1) });
    }
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  if (specs.length > 1) return { kind: 'none' };
  return { kind: 'range', ...ranges[0] };
}
