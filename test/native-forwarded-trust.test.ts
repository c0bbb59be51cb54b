// Builds and runs the plain C++ unit tests of the forwarded-header trust walk that Python
// applications get (native/unit/forwarded_trust_test.cc over native/python/forwarded_trust.cc
// and native/proxy/allow_list.cc: trusted peers, the walk from the right, Forwarded
// preferred, malformed values ignored, ports, Unix peers) under ASan + UBSan; then feeds
// the same generated requests to it and to the JavaScript walk (applyForwarded, what
// forwardedAllowIps runs for JavaScript applications): both must leave the same environ.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyForwarded } from '../src/middleware/proxy-fix';
import { TrustedPeers } from '../src/middleware/ip';
import type { Environ } from '../src/types';
import { buildUnitTest, type UnitTest } from './helpers/native-unit';

let unit: UnitTest | undefined;

beforeAll(() => {
  unit = buildUnitTest('forwarded_trust_test', ['native/unit/forwarded_trust_test.cc', 'native/python/forwarded_trust.cc', 'native/proxy/allow_list.cc']);
}, 150_000);
afterAll(() => unit?.remove());

it('native/unit/forwarded_trust_test.cc passes under ASan + UBSan', () => {
  expect(unit!.run()).toContain('all checks passed');
});

it('the C++ walk and the JavaScript walk leave the same environ for 5,000 generated requests', () => {
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const pick = <T>(a: T[]) => a[rnd(a.length)];
  const addrs = ['127.0.0.1', '10.0.0.5', '10.1.2.3', '203.0.113.7', '::1', '2001:db8::7', '::ffff:10.0.0.9', '192.168.1.1',
    'unknown', '_hidden', 'not-an-ip', '1.2.3.4:80', '[2001:db8::1]:443', '[::1]', '01.2.3.4', '1.2.3', ' 5.6.7.8 ', 'FE80::1', '2001:DB8::A'];
  const hosts = ['www.example.com', 'api.example:8443', '[::1]:9000', '[2001:db8::1]', 'evil host/x', 'a-b.c', '-bad.com', 'x:0', 'x:65536', 'x:', 'localhost:80', 'h.example:443', ''];
  const protos = ['https', 'http', 'HTTPS', ' https ', 'javascript', 'ws', ''];
  const ports = ['443', '80', '8443', '0', '99999', 'abc', ' 8080 ', ''];
  const rules = [['127.0.0.1'], ['127.0.0.1', '10.0.0.0/8'], ['*'], ['unix'], ['10.0.0.0/8', '::1'], ['::ffff:0:0/96'], ['::1'], ['127.0.0.0/8', '2001:db8::/32']];
  const peers = ['127.0.0.1', '10.0.0.5', '::1', '', '203.0.113.9', '::ffff:127.0.0.1'];
  const list = (k: number, f: () => string) => Array.from({ length: rnd(k) + 1 }, f).join(pick([',', ', ', ' ,']));
  const element = () => {
    const parts: string[] = [];
    if (rnd(4)) parts.push('for=' + pick(['"' + pick(addrs) + '"', pick(addrs).replace(/[[\]: ]/g, '') || 'x', '"[2001:db8::7]:4711"']));
    if (rnd(2)) parts.push('proto=' + pick(['https', 'http', '"https"', 'ftp']));
    if (rnd(2)) parts.push('host=' + pick(['"' + pick(hosts) + '"', 'api.example', 'h.example']));
    if (rnd(10) === 0) parts.push('for=1.1.1.1');  // twice in one element: malformed
    return parts.join(pick([';', '; '])) || 'for=unknown';
  };
  const cases: string[][] = [];
  for (let i = 0; i < 5000; i++) {
    cases.push([
      pick(rules).join(','), pick(peers),
      rnd(3) === 0 ? list(3, element) + (rnd(20) === 0 ? ',' : '') : '',
      rnd(2) ? list(4, () => pick(addrs)) : '',
      rnd(2) ? list(2, () => pick(protos)) : '',
      rnd(3) === 0 ? list(2, () => pick(hosts)) : '',
      rnd(3) === 0 ? list(2, () => pick(ports)) : '',
      rnd(8) === 0 ? '<none>' : pick(['localhost', 'localhost:8000', 'example.org', '[::1]:8000']),
    ]);
  }
  const native = unit!.run(['--cases'], cases.map((c) => c.join('\t')).join('\n') + '\n', 60_000).split('\n');
  const mismatches: string[] = [];
  cases.forEach((c, i) => {
    const e: Record<string, string> = { REMOTE_ADDR: c[1], 'wsgi.url_scheme': 'http', SERVER_NAME: 'srv', SERVER_PORT: '8000' };
    if (c[7] !== '<none>') e.HTTP_HOST = c[7];
    const names = ['HTTP_FORWARDED', 'HTTP_X_FORWARDED_FOR', 'HTTP_X_FORWARDED_PROTO', 'HTTP_X_FORWARDED_HOST', 'HTTP_X_FORWARDED_PORT'];
    names.forEach((k, j) => { if (c[2 + j]) e[k] = c[2 + j]; });
    const trusted = new TrustedPeers(c[0].split(','));
    if (trusted.trusts(e.REMOTE_ADDR)) applyForwarded(e as unknown as Environ, trusted, { forwarded: true, xForwarded: true, prefix: false, original: false });
    const js = [e.REMOTE_ADDR, e['wsgi.url_scheme'], e.HTTP_HOST ?? '<none>', e.SERVER_NAME, e.SERVER_PORT].join('\t');
    if (js !== native[i]) mismatches.push(`${JSON.stringify(c)}: JavaScript ${JSON.stringify(js)}, C++ ${JSON.stringify(native[i])}`);
  });
  expect(mismatches.slice(0, 5)).toEqual([]);
  // The generator reaches the interesting outcomes, not only "nothing changed".
  const changed = cases.filter((c, i) => native[i] !== [c[1], 'http', c[7], 'srv', '8000'].join('\t')).length;
  expect(changed).toBeGreaterThan(500);
}, 120_000);
