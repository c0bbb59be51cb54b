// The README's "validator, Request and Response" example, taken from README.md itself and
// loaded through the package (node_modules/tsgi is this checkout's dist/), served on a
// real socket: a multipart upload and a cookie round trip.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { App } from '../src/index';
import { get, rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

const ROOT = path.join(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-readme-mw-'));
let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function example(): App {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n### validator, Request and Response\n');
  expect(start).toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const code = /^```js\n([\s\S]*?)^```$/m.exec(section)![1];
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  if (!fs.existsSync(path.join(dir, 'node_modules', 'tsgi'))) fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'tsgi'), 'dir');
  fs.writeFileSync(path.join(dir, 'app.js'), code);
  return createRequire(path.join(dir, 'index.js'))('./app.js').app as App;
}

describe('README: validator, Request and Response', () => {
  it('greets with a cookie, then accepts an upload', async () => {
    ts = await startServer(example());
    const first = await rawRequest(ts.port, get('/', { Cookie: 'name=Ada' }));
    expect(first.responses[0].body.toString()).toBe('hello Ada');
    expect(first.responses[0].header['set-cookie']).toBe('seen=1; Max-Age=3600; HttpOnly; SameSite=Lax');
    const B = 'xYz';
    const body = `--${B}\r\nContent-Disposition: form-data; name="file"; filename="n.txt"\r\n\r\nnotes\r\n--${B}--\r\n`;
    const up = await rawRequest(ts.port, `POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(up.responses[0].status).toBe(201);
    expect(JSON.parse(up.responses[0].body.toString())).toEqual({ name: 'n.txt', size: 5 });
    expect(ts.errors()).toBe('');
  });
});
