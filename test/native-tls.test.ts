// Builds and runs the plain C++ TLS tests (native/unit/tls_test.cc: context and session
// against an OpenSSL client in memory) under ASan + UBSan. The sources compile against
// node's own OpenSSL headers (include/node/openssl); the standalone binary links the
// system libssl/libcrypto (same OpenSSL 3.0 ABI) since it runs outside node.
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildUnitTest } from './helpers/native-unit';
import { makeTestCerts, type TestCerts } from './helpers/tls-certs';

const nodeInclude = path.resolve(process.execPath, '..', '..', 'include', 'node');
let certs: TestCerts;

beforeAll(() => {
  certs = makeTestCerts();
}, 60_000);
afterAll(() => certs?.remove());

it('native/unit/tls_test.cc passes under ASan + UBSan', () => {
  const unit = buildUnitTest('tls_test', ['native/unit/tls_test.cc', 'native/tls/tls_context.cc', 'native/tls/tls_session.cc'], {
    flags: [`-I${nodeInclude}`], libs: ['-lssl', '-lcrypto'], timeoutMs: 180_000,
  });
  try {
    expect(unit.run([certs.dir], undefined, 60_000)).toContain('all checks passed');
  } finally {
    unit.remove();
  }
}, 250_000);
