'use strict';
// The bytes every peer serves, defined once so that all servers answer each scenario
// identically and the validator knows exactly what to expect.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const HELLO = 'Hello World'; // 11 bytes
const HELLO_BYTES = Buffer.from(HELLO, 'latin1');

// A ~1 KB object, serialized with JSON.stringify on every request.
const JSON_OBJECT = {
  id: 4711,
  name: 'tsgi benchmark payload',
  active: true,
  ratio: 0.875,
  tags: ['wsgi', 'pep-3333', 'http/1.1', 'native', 'bench'],
  owner: { id: 42, login: 'octo', email: 'octo@example.com', roles: ['admin', 'dev'] },
  items: Array.from({ length: 8 }, (_, i) => ({
    sku: `SKU-${1000 + i}`,
    title: `Item number ${i}`,
    price: 9.99 + i,
    qty: i * 3,
    inStock: i % 2 === 0,
  })),
  meta: { created: '2026-01-01T00:00:00.000Z', updated: '2026-06-30T12:34:56.000Z', version: 3 },
};
const JSON_TEXT = JSON.stringify(JSON_OBJECT);

// The headers scenario sends these 19 headers plus Host (20 in all); the app reads 3.
const REQUEST_HEADERS = [
  ['User-Agent', 'tsgi-bench/1.0 (X11; Linux x86_64)'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.5'],
  ['Accept-Encoding', 'identity'],
  ['Cache-Control', 'no-cache'],
  ['Pragma', 'no-cache'],
  ['Referer', 'http://127.0.0.1/previous/page'],
  ['Cookie', 'session=0123456789abcdef; theme=dark; lang=en'],
  ['DNT', '1'],
  ['Upgrade-Insecure-Requests', '1'],
  ['Sec-Fetch-Dest', 'document'],
  ['Sec-Fetch-Mode', 'navigate'],
  ['Sec-Fetch-Site', 'same-origin'],
  ['Sec-Fetch-User', '?1'],
  ['X-Request-Id', '7f3c9a2e-1b4d-4e8f-9a6b-2c5d8e1f0a3b'],
  ['X-Forwarded-For', '203.0.113.7'],
  ['X-Forwarded-Proto', 'http'],
  ['X-Trace-Token', 'trace-abcdef-123456'],
  ['X-Client-Version', '3.14.1'],
];
// Lowercase names of the three headers the app reads, and the body it answers with.
const READ_HEADERS = ['user-agent', 'accept-language', 'x-request-id'];
function headersBody(ua, lang, id) {
  return `ua=${ua}\nlang=${lang}\nid=${id}\n`;
}
const HEADERS_TEXT = headersBody(
  ...READ_HEADERS.map((n) => REQUEST_HEADERS.find(([k]) => k.toLowerCase() === n)[1]),
);

// 4 KB of printable ASCII posted by the echo scenario.
const ECHO_BODY = Buffer.alloc(4096);
for (let i = 0; i < ECHO_BODY.length; i++) ECHO_BODY[i] = 0x41 + (i % 26) + (i % 52 >= 26 ? 0x20 : 0);

// 16 chunks of 64 KB, each filled with its own letter so reordering is detectable.
const STREAM_CHUNK_SIZE = 64 * 1024;
const STREAM_CHUNKS = Array.from({ length: 16 }, (_, i) => Buffer.alloc(STREAM_CHUNK_SIZE, 0x41 + i));
const STREAM_BYTES = Buffer.concat(STREAM_CHUNKS);
// The stream scenario's body as every server produces it: a generator, one chunk at a time.
function* streamChunks() {
  for (const c of STREAM_CHUNKS) yield c;
}

// The 1 MB static file; created on first use, deterministic content.
const FILE_SIZE = 1024 * 1024;
const FILE_PATH = path.join(os.tmpdir(), 'tsgi-bench', 'payload-1m.bin');
function fileBytes() {
  const b = Buffer.alloc(FILE_SIZE);
  for (let i = 0; i < b.length; i++) b[i] = i % 251;
  return b;
}
function ensureFile() {
  try {
    if (fs.statSync(FILE_PATH).size === FILE_SIZE) return FILE_PATH;
  } catch {}
  fs.mkdirSync(path.dirname(FILE_PATH), { recursive: true });
  const tmp = `${FILE_PATH}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, fileBytes());
  fs.renameSync(tmp, FILE_PATH); // atomic: concurrent servers never see a partial file
  return FILE_PATH;
}

const CONTENT_TYPES = {
  text: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  binary: 'application/octet-stream',
};

module.exports = {
  HELLO,
  HELLO_BYTES,
  JSON_OBJECT,
  JSON_TEXT,
  REQUEST_HEADERS,
  READ_HEADERS,
  headersBody,
  HEADERS_TEXT,
  ECHO_BODY,
  STREAM_CHUNKS,
  streamChunks,
  STREAM_BYTES,
  FILE_PATH,
  FILE_SIZE,
  fileBytes,
  ensureFile,
  CONTENT_TYPES,
};
