'use strict';
// The scenarios: what the load generator sends and what every server must answer.
const p = require('./payloads');

/**
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} description
 * @property {string} method
 * @property {string} path
 * @property {Array<[string,string]>} headers  request headers besides Host
 * @property {Buffer|null} body                request body
 * @property {number} pipeline                 requests per write
 * @property {{status:number, contentType:string, body:Buffer}} expect
 * @property {'throughput'|'idle'} kind
 * @property {'js'|'python'|'app'} family   which servers run it: the JavaScript peers,
 *   the Python WSGI peers, or the two servers of `--app` (the user's own application)
 */

/** @type {Scenario[]} */
const SCENARIOS = [
  {
    name: 'hello',
    description: '11-byte text response',
    method: 'GET',
    path: '/hello',
    headers: [],
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'js',
    expect: { status: 200, contentType: p.CONTENT_TYPES.text, body: p.HELLO_BYTES },
  },
  {
    name: 'json',
    description: `~1 KB object serialized per request (${p.JSON_TEXT.length} bytes)`,
    method: 'GET',
    path: '/json',
    headers: [],
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'js',
    expect: { status: 200, contentType: p.CONTENT_TYPES.json, body: Buffer.from(p.JSON_TEXT) },
  },
  {
    name: 'headers',
    description: '20 request headers, the app reads 3',
    method: 'GET',
    path: '/headers',
    headers: p.REQUEST_HEADERS,
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'js',
    expect: { status: 200, contentType: p.CONTENT_TYPES.text, body: Buffer.from(p.HEADERS_TEXT) },
  },
  {
    name: 'echo',
    description: 'POST a 4 KB body, echo it',
    method: 'POST',
    path: '/echo',
    headers: [['Content-Type', 'application/octet-stream']],
    body: p.ECHO_BODY,
    pipeline: 1,
    kind: 'throughput',
    family: 'js',
    expect: { status: 200, contentType: p.CONTENT_TYPES.binary, body: p.ECHO_BODY },
  },
  {
    name: 'stream',
    description: '1 MB response produced as 16 chunks of 64 KB',
    method: 'GET',
    path: '/stream',
    headers: [],
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'js',
    expect: { status: 200, contentType: p.CONTENT_TYPES.binary, body: p.STREAM_BYTES },
  },
  {
    name: 'file',
    description: '1 MB static file',
    method: 'GET',
    path: '/file',
    headers: [],
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'js',
    expect: { status: 200, contentType: p.CONTENT_TYPES.binary, body: null /* filled lazily */ },
  },
  {
    name: 'pipelined',
    description: 'hello, 16 requests per write',
    method: 'GET',
    path: '/hello',
    headers: [],
    body: null,
    pipeline: 16,
    kind: 'throughput',
    family: 'js',
    expect: { status: 200, contentType: p.CONTENT_TYPES.text, body: p.HELLO_BYTES },
  },
  {
    name: 'idle',
    description: 'RSS per connection with 10,000 idle keep-alive connections',
    method: 'GET',
    path: '/hello',
    headers: [],
    body: null,
    pipeline: 1,
    kind: 'idle',
    family: 'js',
    expect: { status: 200, contentType: p.CONTENT_TYPES.text, body: p.HELLO_BYTES },
  },
  // The Python WSGI peers (bench/apps/python/bench_app.py): the same bytes from every server.
  {
    name: 'py-hello',
    description: 'a plain WSGI callable answering 11 bytes',
    method: 'GET',
    path: '/hello',
    headers: [],
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'python',
    expect: { status: 200, contentType: p.CONTENT_TYPES.text, body: p.HELLO_BYTES },
  },
  {
    name: 'flask-json',
    description: `Flask route, jsonify of the ~1 KB object (${p.JSON_TEXT.length + 1} bytes)`,
    method: 'GET',
    path: '/flask/json',
    headers: [],
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'python',
    // Flask's jsonify ends the text with a newline and sends no charset.
    expect: { status: 200, contentType: 'application/json', body: Buffer.from(`${p.JSON_TEXT}\n`) },
  },
  {
    name: 'flask-echo',
    description: 'Flask route, POST a 4 KB body, echo it',
    method: 'POST',
    path: '/flask/echo',
    headers: [['Content-Type', 'application/octet-stream']],
    body: p.ECHO_BODY,
    pipeline: 1,
    kind: 'throughput',
    family: 'python',
    expect: { status: 200, contentType: p.CONTENT_TYPES.binary, body: p.ECHO_BODY },
  },
  {
    name: 'django',
    description: 'a Django view (single-file project, default middleware without sessions)',
    method: 'GET',
    path: '/django/',
    headers: [],
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'python',
    expect: { status: 200, contentType: p.CONTENT_TYPES.text, body: p.HELLO_BYTES },
  },
  // `--app`: the user's own application, GET --path (default /). What it answers is not
  // known in advance: validation asks for a status below 500 from both servers.
  {
    name: 'app-get',
    description: 'GET PATH on keep-alive connections',
    method: 'GET',
    path: '/',
    headers: [],
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'app',
    expect: null,
  },
  {
    name: 'app-close',
    description: 'GET PATH with Connection: close (a new connection per request)',
    method: 'GET',
    path: '/',
    headers: [['Connection', 'close']],
    body: null,
    pipeline: 1,
    kind: 'throughput',
    family: 'app',
    expect: null,
  },
  {
    name: 'app-pipelined',
    description: 'GET PATH, 16 requests per write',
    method: 'GET',
    path: '/',
    headers: [],
    body: null,
    pipeline: 16,
    kind: 'throughput',
    family: 'app',
    expect: null,
  },
];

let fileBody = null;
Object.defineProperty(SCENARIOS.find((s) => s.name === 'file').expect, 'body', {
  enumerable: true,
  get() {
    if (!fileBody) fileBody = p.fileBytes();
    return fileBody;
  },
});

const NAMES = SCENARIOS.map((s) => s.name);
const familyNames = (family) => SCENARIOS.filter((s) => s.family === family).map((s) => s.name);

/** The scenario named `name`; with `path`, an `--app` scenario aimed at that path. */
function getScenario(name, { path } = {}) {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario '${name}' (known: ${NAMES.join(', ')})`);
  return path && s.family === 'app' ? { ...s, path } : s;
}

module.exports = { SCENARIOS, NAMES, familyNames, getScenario };
