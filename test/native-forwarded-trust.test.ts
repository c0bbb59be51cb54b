// Builds and runs the plain C++ unit tests of the forwarded-header trust walk that Python
// applications get (native/unit/forwarded_trust_test.cc over native/python/forwarded_trust.cc
// and native/proxy/allow_list.cc: trusted peers, the walk from the right, Forwarded
// preferred, malformed values ignored, ports, Unix peers) under ASan + UBSan.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.join(__dirname, '..');

it('native/unit/forwarded_trust_test.cc passes under ASan + UBSan', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-fwd-')), 'forwarded_trust_test');
  const sources = ['native/unit/forwarded_trust_test.cc', 'native/python/forwarded_trust.cc', 'native/proxy/allow_list.cc'];
  const flags = ['-std=c++17', '-g', '-O1', '-Wall', '-Wextra', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
  execFileSync(process.env.CXX || 'g++', [...flags, ...sources, '-o', out], { cwd: root, stdio: 'pipe', timeout: 120_000 });
  // LD_PRELOAD from a sanitizer run of the addon must not leak into this binary
  const env = { ...process.env, LD_PRELOAD: '' };
  const stdout = execFileSync(out, [], { encoding: 'utf8', env, timeout: 30_000 });
  expect(stdout).toContain('all checks passed');
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
}, 150_000);
