// The README's quick start, taken from README.md itself, and `npm start`'s
// examples/hello.js, run with the real command in a project that depends on tsgi: a
// non-ASCII path comes back as the same text, not as mojibake.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, get, killAll, startServer, tmpdir } from './manager-harness';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const dirs: string[] = [];

afterAll(async () => {
  await killAll();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The fenced blocks of the README's "## Quick start" section, in order. */
function quickStartBlocks(): Array<{ lang: string; code: string }> {
  const start = readme.indexOf('\n## Quick start\n');
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], code: m[2] }));
}

/** A project directory with tsgi installed as a dependency (node_modules/tsgi is this checkout). */
function project(): string {
  const dir = tmpdir('tsgi-quickstart-');
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'tsgi'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { tsgi: '*' } }));
  return dir;
}

/** Sends a request whose target is raw UTF-8 bytes (as curl sends /café) and returns the response's body bytes. */
function rawGet(port: number, target: Buffer): Promise<{ head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, split).toString('latin1'), body: all.subarray(split + 4) });
    });
    sock.on('error', reject);
    sock.setTimeout(10_000, () => sock.destroy(new Error('timed out')));
    sock.write(Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
  });
}

async function expectUtf8Paths(port: number) {
  const encoded = await get({ port }, '/caf%C3%A9/%E6%97%A5%E6%9C%AC');
  expect(encoded.status).toBe(200);
  expect(encoded.body).toBe('Hello from /café/日本\n');
  expect(encoded.headers['content-type']).toMatch(/charset=utf-8/i);
  const raw = await rawGet(port, Buffer.from('/café', 'utf8'));
  expect(raw.head).toMatch(/^HTTP\/1\.1 200 /);
  expect(raw.body.toString('utf8')).toBe('Hello from /café\n');
}

describe('README quick start', () => {
  it('the app.js and command of the README serve a non-ASCII path as text', async () => {
    const blocks = quickStartBlocks();
    const app = blocks.find((b) => b.lang === 'js' && b.code.startsWith('// app.js\n'));
    expect(app, 'a ```js block starting with // app.js').toBeDefined();
    const command = blocks.find((b) => b.lang === 'sh')!.code.split('\n').find((l) => l.startsWith('npx tsgi '))!;
    expect(command).toBeDefined();
    const args = command.replace(/\s+#.*$/, '').split(/\s+/).slice(2);
    // The documented command, on a free loopback port and with one worker (the machine is shared).
    const bindAt = args.indexOf('--bind');
    expect(bindAt).toBeGreaterThan(0);
    args[bindAt + 1] = '127.0.0.1:0';
    const workersAt = args.indexOf('--workers');
    if (workersAt >= 0) args[workersAt + 1] = '1';
    const dir = project();
    fs.writeFileSync(path.join(dir, 'app.js'), app!.code);
    const { port } = await startServer(args, { cwd: dir });
    await expectUtf8Paths(port);
  }, 60_000);

  it('npm start (examples/hello.js) serves a non-ASCII path as text', async () => {
    const start: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
    const m = /^node bin\/tsgi\.js (\S+(?: \S+)*)$/.exec(start);
    expect(m, start).not.toBeNull();
    expect(BIN).toBe(path.join(ROOT, 'bin', 'tsgi.js'));
    const { port } = await startServer([...m![1].split(' '), '--bind', '127.0.0.1:0'], { cwd: ROOT });
    await expectUtf8Paths(port);
  }, 60_000);
});
