// The deployment settings and bind forms: TLS files and client-certificate settings,
// https:// and uwsgi:// binds, PROXY protocol and uwsgi options, as the tsgi command and
// the embedding API take them; what reaches the native core's listen options; clear
// errors for bad values.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, parseBind, serve, type App } from '../src/index';
import { binding } from '../src/native';
import { nativeListenOptions } from '../src/listen-options';
import { resolveOptions } from '../src/options';
import { parseSniEntries } from '../src/tls-options';
import { killAll, run, tsgi } from './manager-harness';

const app: App = (_e, sr) => { sr('200 OK', []); return ['ok']; };
const caps = binding().capabilities ?? {};
let dir: string;
let cert: string;
let key: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-deploy-settings-'));
  cert = path.join(dir, 'cert.pem');
  key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-days', '2'], { stdio: 'ignore' });
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await killAll();
});

describe('the tsgi command refuses bad deployment settings, saying what to do (exit 2)', () => {
  it.each([
    [['--bind', 'https://127.0.0.1:0'], /--bind https:\/\/127\.0\.0\.1:0 is https and needs a certificate: give --certfile/],
    [['--certfile', '/nonexistent/cert.pem'], /--certfile "\/nonexistent\/cert\.pem" does not exist/],
    [['--cert-reqs', 'sometimes'], /--cert-reqs\) must be one of none, optional, required, got "sometimes"/],
    [['--tls-min-version', 'TLSv1.0'], /must be one of TLSv1\.2, TLSv1\.3/],
    [['--sni', 'not a host=x.pem'], /--sni .*is not a server name/],
    [['--sni', 'api.example=/nonexistent.pem,/nonexistent.key'], /--sni "\/nonexistent\.pem" does not exist.*api\.example/],
    [['--proxy-allow-ips', '10.0.0.0/8', '--proxy-allow-ips', '300.1.1.1'], /proxyAllowIps \(--proxy-allow-ips\): "300\.1\.1\.1" is not an IP address or CIDR range/],
    [['--uwsgi-buffer-size', '100'], /uwsgiBufferSize \(--uwsgi-buffer-size\) must be at least 512/],
    [['--bind', 'uwsgis://127.0.0.1:3031'], /the scheme "uwsgis" is not known/],
  ])('%j', async (args, message) => {
    const r = await run(['deploy.js:app', ...args]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('--cert-reqs required without --ca-certs on an https bind', async () => {
    const r = await run(['deploy.js:app', '--bind', 'https://127.0.0.1:0', '--certfile', cert, '--keyfile', key, '--cert-reqs', 'required']);
    expect(r.stderr).toMatch(/--cert-reqs required needs --ca-certs/);
    expect(r.code).toBe(2);
  });

  it('--print-config shows the settings, with --sni HOST=CERT,KEY kept whole', async () => {
    const r = await run(['deploy.js:app', '--certfile', cert, '--keyfile', key, '--sni', `api.example=${cert},${key}`, '--forwarded-allow-ips', '10.0.0.0/8', '--print-config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/certfile\s+= ".*cert\.pem"\s+\(cli\)/);
    expect(r.stdout).toMatch(/forwardedAllowIps\s+= \["10\.0\.0\.0\/8"\]\s+\(cli\)/);
    expect(r.stdout).toMatch(/tlsMinVersion\s+= "TLSv1\.2"\s+\(default\)/);
  });
});

describe('--sni entries', () => {
  it('HOST=CERT,KEY, also when a list split them at the comma', () => {
    expect(parseSniEntries(['a.example=/c1.pem,/k1.pem', 'B.example=/c2.pem'])).toEqual([
      { host: 'a.example', cert: '/c1.pem', key: '/k1.pem' }, { host: 'b.example', cert: '/c2.pem', key: '/c2.pem' }]);
    expect(parseSniEntries(['a.example=/c1.pem', '/k1.pem', '*.b.example=/c2.pem', '/k2.pem'])).toEqual([
      { host: 'a.example', cert: '/c1.pem', key: '/k1.pem' }, { host: '*.b.example', cert: '/c2.pem', key: '/k2.pem' }]);
    expect(() => parseSniEntries(['/k1.pem'])).toThrow(/expected HOST=CERT,KEY/);
    expect(() => parseSniEntries(['a.example=/c', 'a.example=/d'])).toThrow(/a\.example is given twice/);
  });
});

describe('the embedding API', () => {
  it('an https bind without tls is refused, naming the option', () => {
    expect(() => createServer(app, { bind: 'https://127.0.0.1:0' })).toThrow(/is https and needs a certificate: give the option tls: \{ cert, key \}/);
  });

  it('tls takes file paths, PEM text or Buffers, and says what is wrong', () => {
    const pemCert = fs.readFileSync(cert);
    const pemKey = fs.readFileSync(key, 'utf8');
    const fromPaths = resolveOptions({ bind: 'https://127.0.0.1:0', tls: { cert, key } }).tls!;
    const fromPem = resolveOptions({ bind: 'https://127.0.0.1:0', tls: { cert: pemCert, key: pemKey } }).tls!;
    expect(fromPaths.cert.equals(pemCert)).toBe(true);
    expect(fromPem.key.toString()).toBe(pemKey);
    expect(fromPaths).toMatchObject({ certReqs: 'none', minVersion: 'TLSv1.2', ciphers: '', passphrase: '', tlsHandshakeTimeout: 10_000 });
    // The native core names the files in its errors (a key that does not match, a bad passphrase).
    expect([fromPaths.certName, fromPaths.keyName]).toEqual([cert, key]);
    expect([fromPem.certName, fromPem.keyName]).toEqual(['tls.cert', 'tls.key']);
    expect(() => resolveOptions({ tls: { cert: path.join(dir, 'missing.pem'), key } })).toThrow(/option tls\.cert: cannot read ".*missing\.pem" \(no such file\)/);
    expect(() => resolveOptions({ tls: { cert, key: cert } })).toThrow(/tls\.key holds no private key/);
    expect(() => resolveOptions({ tls: { cert, key, certReqs: 'required' } })).toThrow(/certReqs 'required' needs tls\.ca/);
    expect(() => resolveOptions({ tls: { cert, key, minVersion: 'TLSv1.1' as never } })).toThrow(/minVersion must be 'TLSv1\.2' or 'TLSv1\.3'/);
    expect(() => resolveOptions({ tls: { cert, key, sni: { 'api.example': { cert: 'nope' } } } })).toThrow(/tls\.sni\["api\.example"\]\.cert: cannot read "nope"/);
    expect(() => resolveOptions({ tls: { cert, key, ticket: 1 } as never })).toThrow(/option tls\.ticket is not known/);
  });

  it('each listener gets its protocol, TLS for https binds, and the server\'s PROXY and uwsgi options', () => {
    const o = resolveOptions({ bind: ['127.0.0.1:0'], tls: { cert, key, sni: { 'api.example': { cert, key } } }, proxyProtocol: true, proxyAllowIps: ['10.0.0.0/8'], uwsgiBufferSize: 8192 });
    const https = nativeListenOptions(parseBind('https://127.0.0.1:0'), o)!;
    expect(https).toMatchObject({ proxyProtocol: true, proxyAllow: ['10.0.0.0/8'] });
    expect(https.protocol ?? 'http').toBe('http');
    expect(Buffer.isBuffer(https.tls?.cert) && Buffer.isBuffer(https.tls?.sni['api.example'].key)).toBe(true);
    const uwsgi = nativeListenOptions(parseBind('uwsgi+unix:/run/app.sock'), o)!;
    expect(uwsgi).toMatchObject({ protocol: 'uwsgi', uwsgiBufferSize: 8192 });
    expect(uwsgi.tls).toBeUndefined();
    expect(nativeListenOptions(parseBind('127.0.0.1:0'), resolveOptions({}))).toBeUndefined();
    expect(nativeListenOptions(parseBind('https://127.0.0.1:0'), resolveOptions({ tls: { cert, key } }))?.tls?.key.toString()).toContain('PRIVATE KEY');
  });

  it.skipIf(caps.tls)('without TLS in the native core, an https bind is refused rather than served in clear', async () => {
    await expect(serve(app, { bind: 'https://127.0.0.1:0', tls: { cert, key } })).rejects.toThrow(/cannot listen on https:\/\/127\.0\.0\.1:0: this build of the native core does not support TLS/);
  });

  it.skipIf(caps.uwsgi)('without the uwsgi protocol in the native core, a uwsgi bind is refused', async () => {
    await expect(serve(app, { bind: 'uwsgi://127.0.0.1:0' })).rejects.toThrow(/does not support the uwsgi protocol/);
  });

  it.skipIf(caps.proxyProtocol)('without the PROXY protocol in the native core, proxyProtocol is refused', async () => {
    await expect(serve(app, { bind: '127.0.0.1:0', proxyProtocol: true })).rejects.toThrow(/does not support the PROXY protocol/);
  });
});

describe('the process manager passes each socket\'s protocol to its workers', () => {
  it('--keyfile-password reaches the worker outside its command line (which ps shows to everyone)', async () => {
    const t = tsgi(['deploy.js:app', '--bind', '127.0.0.1:0', '--certfile', cert, '--keyfile', key, '--keyfile-password', 'sesame-4711']);
    await t.waitFor(/msg="server ready"/, 30_000);
    const [pid] = t.workerPids();
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1')).not.toContain('sesame-4711');
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1')).toContain('deploy.js:app');
    t.child.kill('SIGTERM');
    await t.exited;
  });

  it.skipIf(caps.uwsgi)('a uwsgi bind reaches the worker as a uwsgi listener (refused there by a native core without it)', async () => {
    const t = tsgi(['deploy.js:app', '--bind', 'uwsgi://127.0.0.1:0']);
    await t.waitFor(/does not support the uwsgi protocol/, 20_000);
    expect(t.err()).toMatch(/msg=listening .*role=master address=uwsgi:\/\/127\.0\.0\.1:\d+ bind=uwsgi:\/\/127\.0\.0\.1:0/);
    expect(t.err()).toMatch(/cannot listen on uwsgi\+fd:\/\/3/);
    t.child.kill('SIGTERM');
    await t.exited;
  });
});
