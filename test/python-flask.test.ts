// A Flask application (Debian's python3-flask) served by the embedded interpreter through
// the CLI, plain and wrapped in wsgiref.validate.validator with warnings as errors.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll } from './manager-harness';
import { rawRequest, get as rawGet } from './helpers/http';
import { hasPython, PY_APPS, request, skipReason, startPython } from './helpers/python';

function multipart(boundary: string, parts: Array<{ name: string; filename?: string; type?: string; data: Buffer | string }>): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    out.push(Buffer.from(head + '\r\n'), Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data), Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

for (const [title, spec, threads] of [
  ['Flask', 'flask_app.py:app', '1'],
  ['Flask under wsgiref.validate.validator', 'validated:flask', '1'],
  ['Flask on 3 Python threads', 'flask_app.py:app', '3'],
] as const) {
  describe.skipIf(!hasPython)(`Python: ${title}${skipReason}`, () => {
    let port = 0;
    let err: () => string;
    beforeAll(async () => {
      const s = await startPython(['--python', spec, '--threads', threads, '--body-memory-size', '64KB', '--max-body-size', '64MB']);
      port = s.port;
      err = () => s.t.err();
    }, 60_000);
    afterAll(killAll);

    it('routes, with a URL converter and the query string', async () => {
      const r = await request(port, 'GET', '/user/42?name=ada');
      expect([r.status, JSON.parse(r.text)]).toEqual([200, { id: 42, name: 'ada' }]);
      expect((await request(port, 'GET', '/')).text).toBe('Hello from Flask');
    });

    // Werkzeug's get_data() calls wsgi.input.read() without a size, which the validator
    // refuses on the application's side (under any server): JSON is checked unvalidated.
    it.skipIf(spec.startsWith('validated'))('JSON in and out', async () => {
      const r = await request(port, 'POST', '/json', { body: JSON.stringify({ a: [1, 2], b: 'é' }), headers: { 'Content-Type': 'application/json' } });
      expect(r.headers['content-type']).toBe('application/json');
      expect(JSON.parse(r.text)).toEqual({ received: { a: [1, 2], b: 'é' }, method: 'POST' });
    });

    it('an urlencoded form', async () => {
      const r = await request(port, 'POST', '/form', { body: 'a=1&b=two+words&c=%C3%A9', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      expect(JSON.parse(r.text)).toEqual({ fields: { a: '1', b: 'two words', c: 'é' } });
    });

    it('a multipart upload, spooled past the memory threshold, hashed', async () => {
      const data = crypto.randomBytes(3 * 1024 * 1024 + 17);
      const body = multipart('XyZ123', [
        { name: 'title', data: 'a file' },
        { name: 'upload', filename: 'blob.bin', type: 'application/octet-stream', data },
      ]);
      const r = await request(port, 'POST', '/upload', { body, headers: { 'Content-Type': 'multipart/form-data; boundary=XyZ123' } });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({
        fields: { title: 'a file' },
        files: { upload: { filename: 'blob.bin', size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') } },
      });
    }, 30_000);

    it('send_file', async () => {
      const r = await request(port, 'GET', '/file');
      expect(r.status).toBe(200);
      expect(r.text).toBe(fs.readFileSync(path.join(PY_APPS, 'static.txt'), 'utf8'));
      expect(r.headers['content-length']).toBe(String(r.body.length));
    });

    it('a streamed response from a generator', async () => {
      const ex = await rawRequest(port, rawGet('/stream'));
      expect(ex.responses[0].chunked).toBe(true);
      expect(ex.responses[0].body.toString()).toBe('part 0\npart 1\npart 2\n');
    });

    it('a redirect that sets a cookie and the session, read back', async () => {
      const r = await request(port, 'GET', '/login?user=grace');
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe('/whoami');
      const cookies = (r.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
      expect(cookies.some((c) => c.startsWith('session='))).toBe(true);
      expect(cookies).toContain('flavour=oatmeal');
      const who = await request(port, 'GET', '/whoami', { headers: { Cookie: cookies.join('; ') } });
      expect(JSON.parse(who.text)).toEqual({ user: 'grace', flavour: 'oatmeal' });
    });

    it('an error handler, a 404 and an exception in a view', async () => {
      const teapot = await request(port, 'GET', '/teapot');
      expect([teapot.status, JSON.parse(teapot.text)]).toEqual([418, { error: "I'm a teapot" }]);
      expect((await request(port, 'GET', '/missing')).status).toBe(404);
      const crash = await request(port, 'GET', '/crash');
      expect(crash.status).toBe(500);
      await expect.poll(() => err()).toMatch(/ValueError: the view failed/);
      expect((await request(port, 'GET', '/')).status).toBe(200);
    });

    it('nothing was reported by the validator', () => {
      expect(err()).not.toMatch(/AssertionError|Warning|Exception ignored/);
    });
  });
}
