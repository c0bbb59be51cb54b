// The C++ request parser, chunked decoder and known-header table (RFC 9112 §2-§7), the
// uwsgi packet parser and the PROXY protocol header parser, tested as plain C++ without Node: the table tests built with -fsanitize=address,undefined and
// run (every case whole, at every prefix, in every split), then each libFuzzer target
// built with clang and run for a bounded time. Sources: native/test/. Then the target,
// Content-Length and singleton-field rules again over a real socket.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Environ } from '../src/index';
import { rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

const ROOT = path.join(__dirname, '..');
const NATIVE = path.join(ROOT, 'native');
const TESTS = path.join(NATIVE, 'test');
const SOURCES = ['parser.cc', 'chunked_decoder.cc', 'known_headers.cc'].map((f) => path.join(NATIVE, f));
const UWSGI_SOURCES = ['uwsgi/uwsgi_parser.cc', 'known_headers.cc'].map((f) => path.join(NATIVE, f));
const PROXY_SOURCES = ['proxy/proxy_protocol.cc', 'proxy/allow_list.cc'].map((f) => path.join(NATIVE, f));
const FUZZ_SECONDS = 10;

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-native-parser-'));
let keepOut = false;
afterAll(() => {
  if (!keepOut) fs.rmSync(out, { recursive: true, force: true });
});

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd: string, args: string[], timeoutMs: number): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: out, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
}

function describeRun(what: string, r: SpawnSyncReturns<string>): string {
  const tail = (s: string) => s.split('\n').slice(-60).join('\n');
  return `${what}: exit ${r.status} signal ${r.signal}${r.error ? ` (${r.error.message})` : ''}\n` +
    `--- stdout ---\n${tail(r.stdout ?? '')}\n--- stderr ---\n${tail(r.stderr ?? '')}`;
}

// Compiles one test or fuzzer source with the parser's sources; warnings are errors.
function compile(compiler: string, source: string, exe: string, flags: string[], sources = SOURCES): void {
  const r = run(compiler, ['-std=c++17', '-Wall', '-Wextra', '-Werror', ...flags,
    path.join(TESTS, source), ...sources, '-o', exe], 300_000);
  if (r.status !== 0) {
    keepOut = true;
    throw new Error(describeRun(`${compiler} ${source}`, r));
  }
}

// Runs a table-test binary and returns its pass count; fails on any failed case.
function runTable(exe: string): number {
  const r = run(exe, [], 300_000);
  const summary = /(\d+) passed, (\d+) failed/.exec(r.stdout ?? '');
  if (r.status !== 0 || !summary || summary[2] !== '0') keepOut = true;
  expect(summary, describeRun(exe, r)).not.toBeNull();
  expect(Number(summary![2]), describeRun(exe, r)).toBe(0);
  expect(r.status, describeRun(exe, r)).toBe(0);
  return Number(summary![1]);
}

const SANITIZE = ['-g', '-O1', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

describe('native parser (C++ table tests under ASan + UBSan)', () => {
  it('request heads: valid and invalid cases, whole and at every prefix; the known-header table', () => {
    const exe = path.join(out, 'parser_test');
    compile('g++', 'parser_test.cc', exe, SANITIZE);
    expect(runTable(exe)).toBeGreaterThanOrEqual(150);
  }, 600_000);

  it('request heads again with the portable scanner (no SSE2: eight bytes at a time)', () => {
    const exe = path.join(out, 'parser_test_nosimd');
    compile('g++', 'parser_test.cc', exe, [...SANITIZE, '-DTSGI_PARSER_NO_SIMD']);
    expect(runTable(exe)).toBeGreaterThanOrEqual(150);
  }, 600_000);

  it('chunked bodies: valid and invalid cases, whole, in every 2-way split and byte by byte', () => {
    const exe = path.join(out, 'chunked_test');
    compile('g++', 'chunked_test.cc', exe, SANITIZE);
    expect(runTable(exe)).toBeGreaterThanOrEqual(60);
  }, 600_000);

  it('uwsgi packets: valid and invalid cases, whole and at every prefix; environ keys to known ids', () => {
    const exe = path.join(out, 'uwsgi_test');
    compile('g++', 'uwsgi_test.cc', exe, SANITIZE, UWSGI_SOURCES);
    expect(runTable(exe)).toBeGreaterThanOrEqual(80);
  }, 600_000);

  it('PROXY protocol v1/v2 headers and the allow list: valid and invalid cases, whole and at every prefix', () => {
    const exe = path.join(out, 'proxy_protocol_test');
    compile('g++', 'proxy_protocol_test.cc', exe, SANITIZE, PROXY_SOURCES);
    expect(runTable(exe)).toBeGreaterThanOrEqual(75);
  }, 600_000);

  it('the micro-benchmark builds (it is run by hand, not here)', () => {
    compile('g++', 'bench_parser.cc', path.join(out, 'bench_parser'), ['-O2']);
  }, 600_000);
});

const hasClang = onPath('clang++');
if (!hasClang) {
  console.warn('native-parser: clang++ is not on PATH, so the libFuzzer runs are SKIPPED');
}

describe.skipIf(!hasClang)(`native parser fuzzers (libFuzzer, ${FUZZ_SECONDS} s each)`, () => {
  const fuzzSources: Record<string, string[]> = {
    parser: SOURCES, chunked: SOURCES, uwsgi: UWSGI_SOURCES, proxy_protocol: PROXY_SOURCES,
  };
  for (const name of Object.keys(fuzzSources)) {
    it(`fuzz_${name} finds nothing`, () => {
      const exe = path.join(out, `fuzz_${name}`);
      compile('clang++', `fuzz_${name}.cc`, exe,
        ['-g', '-O1', '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=all'], fuzzSources[name]);
      const corpus = path.join(out, `corpus-${name}`);
      const artifacts = path.join(ROOT, 'build-test', 'fuzz-artifacts');
      fs.mkdirSync(corpus, { recursive: true });
      fs.mkdirSync(artifacts, { recursive: true });
      const r = run(exe, [
        `-max_total_time=${FUZZ_SECONDS}`, '-timeout=5', '-rss_limit_mb=1024',
        `-dict=${path.join(TESTS, `fuzz_${name}.dict`)}`,
        `-artifact_prefix=${artifacts}${path.sep}fuzz_${name}-`,
        corpus, path.join(TESTS, 'corpus', name),
      ], (FUZZ_SECONDS + 120) * 1000);
      expect(r.status, describeRun(`fuzz_${name} (crashing inputs go to ${artifacts})`, r)).toBe(0);
      expect(r.stderr).toMatch(/Done \d+ runs/);
    }, 600_000);
  }
});

// The same rules seen from a client: raw requests on a loopback socket, through the addon
// and the gateway, so the status and the environ the application gets are both checked.
interface WireCase {
  name: string;
  raw: string;
  status: number;
  /** Environ values the application must see (only for status 200). */
  environ?: Record<string, unknown>;
}

const wireCases: WireCase[] = [
  // Request-target forms (RFC 9112 §3.2).
  { name: 'a relative reference target is 400 (no PATH_INFO without its leading slash)', raw: 'GET foo/bar HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'authority-form on GET is 400', raw: 'GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'asterisk-form on GET is 400', raw: 'GET * HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'OPTIONS * is accepted', raw: 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n', status: 200, environ: { REQUEST_METHOD: 'OPTIONS', PATH_INFO: '*', REQUEST_URI: '*' } },
  { name: 'CONNECT is 501 Not Implemented', raw: 'CONNECT evil:443 HTTP/1.1\r\nHost: evil:443\r\n\r\n', status: 501 },
  { name: 'CONNECT with an origin-form target is 501 too', raw: 'CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n', status: 501 },
  {
    name: 'absolute-form: the authority replaces Host (RFC 9112 §3.2.2)',
    raw: 'GET http://evil.example/adm HTTP/1.1\r\nHost: x\r\n\r\n',
    status: 200,
    environ: { HTTP_HOST: 'evil.example', PATH_INFO: '/adm', QUERY_STRING: '', REQUEST_URI: 'http://evil.example/adm', SERVER_NAME: '127.0.0.1' },
  },
  {
    name: 'absolute-form: scheme case-insensitive, https, empty path reads as /',
    raw: 'GET HTTPS://H.example:8443?q=1 HTTP/1.1\r\nHost: x\r\n\r\n',
    status: 200,
    environ: { HTTP_HOST: 'H.example:8443', PATH_INFO: '/', QUERY_STRING: 'q=1', REQUEST_URI: 'HTTPS://H.example:8443?q=1' },
  },
  {
    name: 'absolute-form on HTTP/1.0 without Host gives HTTP_HOST',
    raw: 'GET http://h.example HTTP/1.0\r\n\r\n',
    status: 200,
    environ: { HTTP_HOST: 'h.example', PATH_INFO: '/', REQUEST_URI: 'http://h.example' },
  },
  { name: 'absolute-form with the ftp scheme is 400', raw: 'GET ftp://x/y HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'absolute-form with userinfo is 400', raw: 'GET http://u@evil/x HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'absolute-form with an empty host is 400', raw: 'GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  // Content-Length reads as the body size in decimal.
  { name: 'Content-Length: 5,5 reads 5', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,5\r\n\r\nhello', status: 200, environ: { CONTENT_LENGTH: '5' } },
  { name: 'Content-Length: 005 reads 5', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 005\r\n\r\nhello', status: 200, environ: { CONTENT_LENGTH: '5' } },
  { name: 'Content-Length fields 05 and 5 read 5', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 05\r\ncontent-length: 5\r\n\r\nhello', status: 200, environ: { CONTENT_LENGTH: '5' } },
  { name: 'differing Content-Length values stay 400', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello', status: 400 },
  // Singleton fields.
  { name: 'two Content-Type fields are 400', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\nContent-Length: 1\r\n\r\nx', status: 400 },
  { name: 'two Host fields stay 400', raw: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', status: 400 },
];

describe('request-target forms and singleton fields over a socket', () => {
  let ts: TestServer;
  let seen: Environ[] = [];
  beforeAll(async () => {
    ts = await startServer((env, sr) => {
      seen.push({ ...env });
      env['wsgi.input'].read();
      sr('200 OK', [['Content-Type', 'text/plain']]);
      return ['ok'];
    });
  });
  afterAll(() => ts.close());

  it.each(wireCases)('$name', async (c) => {
    seen = [];
    // A refusal closes the connection: read until it does (count 2 is never reached).
    const ex = await rawRequest(ts.port, c.raw, { count: c.status === 200 ? 1 : 2 });
    expect(ex.responses.map((r) => r.status)).toEqual([c.status]);
    if (c.status === 200) {
      expect(seen.length).toBe(1);
      expect(seen[0]).toMatchObject(c.environ ?? {});
    } else {
      expect(seen.length, 'the application is not called').toBe(0);
      expect(ex.closed).toBe(true);
    }
  });
});
