// Builds and runs the plain C++ TLS tests (native/unit/tls_test.cc: context and session
// against an OpenSSL client in memory) under ASan + UBSan. The sources compile against
// node's own OpenSSL headers (include/node/openssl); the standalone binary links the
// system libssl/libcrypto (same OpenSSL 3.0 ABI) since it runs outside node.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTestCerts, type TestCerts } from './helpers/tls-certs';

const root = path.join(__dirname, '..');
const nodeInclude = path.resolve(process.execPath, '..', '..', 'include', 'node');
let certs: TestCerts;

beforeAll(() => {
  certs = makeTestCerts();
}, 60_000);
afterAll(() => certs?.remove());

it('native/unit/tls_test.cc passes under ASan + UBSan', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-tls-')), 'tls_test');
  const sources = ['native/unit/tls_test.cc', 'native/tls/tls_context.cc', 'native/tls/tls_session.cc'];
  const flags = ['-std=c++17', '-g', '-O1', '-Wall', '-Wextra', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
  execFileSync(process.env.CXX || 'g++', [...flags, `-I${nodeInclude}`, ...sources, '-o', out, '-lssl', '-lcrypto'], {
    cwd: root, stdio: 'pipe', timeout: 180_000,
  });
  const env = { ...process.env, LD_PRELOAD: '' };
  const stdout = execFileSync(out, [certs.dir], { encoding: 'utf8', env, timeout: 60_000 });
  expect(stdout).toContain('all checks passed');
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
}, 250_000);
