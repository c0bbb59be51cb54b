// Builds and runs the plain C++ unit tests of a connection's protocol front-ends
// (native/unit/front_ends_test.cc: the PROXY header into the peer address and environ
// entries, the uwsgi request into a record, the health path's match and answer) under
// ASan + UBSan.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.join(__dirname, '..');

it('native/unit/front_ends_test.cc passes under ASan + UBSan', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-front-ends-')), 'front_ends_test');
  const sources = [
    'native/unit/front_ends_test.cc', 'native/proxy/proxy_front_end.cc', 'native/proxy/proxy_protocol.cc',
    'native/environ_entries.cc', 'native/uwsgi/uwsgi_front_end.cc', 'native/uwsgi/uwsgi_parser.cc',
    'native/request_record.cc', 'native/parser.cc', 'native/known_headers.cc', 'native/health_check.cc',
  ];
  const flags = ['-std=c++17', '-g', '-O1', '-Wall', '-Wextra', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
  execFileSync(process.env.CXX || 'g++', [...flags, ...sources, '-o', out], { cwd: root, stdio: 'pipe', timeout: 120_000 });
  // LD_PRELOAD from a sanitizer run of the addon must not leak into this binary
  const env = { ...process.env, LD_PRELOAD: '' };
  const stdout = execFileSync(out, [], { encoding: 'utf8', env, timeout: 30_000 });
  expect(stdout).toContain('all checks passed');
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
}, 150_000);
