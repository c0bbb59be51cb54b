// Content-Type by file extension: a small built-in table, extendable by an option.

const TEXT = '; charset=utf-8';

export const MIME_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html' + TEXT, htm: 'text/html' + TEXT, css: 'text/css' + TEXT,
  js: 'text/javascript' + TEXT, mjs: 'text/javascript' + TEXT, cjs: 'text/javascript' + TEXT,
  json: 'application/json', map: 'application/json', webmanifest: 'application/manifest+json',
  txt: 'text/plain' + TEXT, md: 'text/markdown' + TEXT, csv: 'text/csv' + TEXT,
  xml: 'application/xml', svg: 'image/svg+xml', wasm: 'application/wasm',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', ico: 'image/x-icon', bmp: 'image/bmp',
  woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', br: 'application/octet-stream',
  tar: 'application/x-tar', mp4: 'video/mp4', webm: 'video/webm', mp3: 'audio/mpeg',
  ogg: 'audio/ogg', wav: 'audio/wav',
};

export const DEFAULT_TYPE = 'application/octet-stream';

/** The Content-Type for a file name, from `extra` first, then the built-in table. */
export function contentTypeOf(name: string, extra?: Readonly<Record<string, string>>): string {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  if (dot <= slash + 1) return DEFAULT_TYPE;
  const ext = name.slice(dot + 1).toLowerCase();
  if (extra !== undefined && Object.hasOwn(extra, ext) && typeof extra[ext] === 'string') return extra[ext];
  return Object.hasOwn(MIME_TYPES, ext) ? MIME_TYPES[ext] : DEFAULT_TYPE;
}
