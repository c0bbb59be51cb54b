// Mapping a request path to a file under a root, refusing whatever could leave it.

export type PathCheck =
  | { ok: true; segments: string[]; trailingSlash: boolean }
  | { ok: false; reason: string };

/**
 * The path segments of a request, or why it is refused. PATH_INFO is already
 * percent-decoded once by the server and is never decoded again (so '%252e' stays the
 * file name '%2e'). Refused: NUL, backslash, '.' and '..' segments (however they were
 * encoded), and an encoded '/', '\' or NUL in the raw request target (they would be
 * indistinguishable from real separators after decoding).
 */
export function checkPath(pathInfo: string, requestUri: string, dotfiles: boolean): PathCheck {
  const q = requestUri.indexOf('?');
  const rawPath = q < 0 ? requestUri : requestUri.slice(0, q);
  if (/%(2f|5c|00)/i.test(rawPath)) return { ok: false, reason: 'encoded separator or NUL in the request target' };
  if (pathInfo.includes('\0')) return { ok: false, reason: 'NUL in the path' };
  if (pathInfo.includes('\\')) return { ok: false, reason: 'backslash in the path' };
  const segments: string[] = [];
  for (const seg of pathInfo.split('/')) {
    if (seg === '') continue;
    if (seg === '.' || seg === '..') return { ok: false, reason: 'dot segment in the path' };
    if (!dotfiles && seg.startsWith('.')) return { ok: false, reason: 'hidden file' };
    segments.push(Buffer.from(seg, 'latin1').toString('utf8'));
  }
  return { ok: true, segments, trailingSlash: pathInfo.endsWith('/') };
}

/** Whether `real` (a resolved path) is `root` or inside it. */
export function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith('/') ? root : root + '/');
}

/** Percent-encodes a native (latin-1) path for a Location header. */
export function encodePath(native: string): string {
  let out = '';
  for (let i = 0; i < native.length; i++) {
    const c = native.charCodeAt(i);
    const ch = native[i];
    if (/[A-Za-z0-9\-._~!$&'()*+,;=:@/]/.test(ch)) out += ch;
    else out += '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
  }
  return out;
}
