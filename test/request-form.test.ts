// Request.form(), headers and cookies over real sockets: urlencoded and multipart bodies,
// a file spooled to disk, and each malformed or over-limit multipart body refused with
// its own FormError code.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FormError, Request, Response, type App, type Form, type FormOptions, type UploadedFile } from '../src/index';
import { rawRequest } from './helpers/http';
import { startServer, type TestServer } from './helpers/server';

let ts: TestServer | undefined;
afterEach(async () => { await ts?.close(); ts = undefined; });

const B = '----tsgiBoundary7MA4YWxk';

function post(contentType: string, body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: ${contentType}\r\nContent-Length: ${b.length}\r\n\r\n`, 'latin1'), b]);
}

function multipart(parts: Array<{ name: string; value: string | Buffer; filename?: string; type?: string }>, boundary = B): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    out.push(Buffer.from(head + '\r\n', 'utf8'), Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value, 'utf8'), Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

/** A server whose app parses the form and answers with what it saw, or the FormError's status and code. */
async function formServer(options: FormOptions = {}, inspect?: (form: Form) => Promise<unknown>): Promise<TestServer> {
  const app: App = async (env, sr) => {
    const req = new Request(env);
    try {
      const form = await req.form(options);
      const out = inspect ? await inspect(form) : Object.fromEntries([...form.fields].map(([k, v]) => [k, v]));
      form.dispose();
      return Response.json(out)(env, sr);
    } catch (e) {
      if (e instanceof FormError) return Response.json({ code: e.code, message: e.message }, { status: e.status })(env, sr);
      throw e;
    }
  };
  return (ts = await startServer(app));
}

async function send(request: Buffer) {
  const { responses } = await rawRequest(ts!.port, request, { timeoutMs: 10_000 });
  return { status: responses[0].status, json: JSON.parse(responses[0].body.toString()) };
}

describe('Request.form()', () => {
  it('urlencoded fields, repeated names kept', async () => {
    await formServer();
    const r = await send(post('application/x-www-form-urlencoded', 'a=1&b=%C3%A9&a=2&c=x+y'));
    expect(r).toEqual({ status: 200, json: { a: ['1', '2'], b: ['é'], c: ['x y'] } });
  });

  it('multipart fields and an in-memory file with its name, type and content; filename* decoded', async () => {
    await formServer({}, async (form) => {
      const f = form.get('doc') as UploadedFile;
      const g = form.get('star') as UploadedFile;
      return { title: form.get('title'), file: [f.filename, f.contentType, f.inMemory, await f.text()], star: g.filename };
    });
    const body = Buffer.concat([
      multipart([{ name: 'title', value: 'Grüße' }, { name: 'doc', value: 'line1\r\n--not-the-boundary\r\n', filename: 'a.txt', type: 'text/plain' }]).subarray(0, -(B.length + 6)),
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="star"; filename="x"; filename*=UTF-8''%E2%98%83.txt\r\n\r\nS\r\n--${B}--\r\n`),
    ]);
    const r = await send(post(`multipart/form-data; boundary="${B}"`, body));
    expect(r).toEqual({ status: 200, json: { title: 'Grüße', file: ['a.txt', 'text/plain', true, 'line1\r\n--not-the-boundary\r\n'], star: '☃.txt' } });
  });

  it('a file over memoryThreshold is spooled to an unlinked temporary file and reads back whole', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-spool-'));
    const data = crypto.randomBytes(3 * 1024 * 1024 + 17);
    let sawOnDisk = -1;
    await formServer({ memoryThreshold: 64 * 1024, tmpdir: dir }, async (form) => {
      const f = form.get('big') as UploadedFile;
      sawOnDisk = fs.readdirSync(dir).length;
      const bytes = await f.bytes();
      const copy = path.join(dir, 'copy.bin');
      await f.saveTo(copy);
      const saved = crypto.createHash('sha256').update(fs.readFileSync(copy)).digest('hex');
      fs.unlinkSync(copy);
      return { inMemory: f.inMemory, size: f.size, sha: crypto.createHash('sha256').update(bytes).digest('hex'), saved };
    });
    try {
      const r = await send(post(`multipart/form-data; boundary=${B}`, multipart([{ name: 'big', value: data, filename: 'big.bin', type: 'application/octet-stream' }])));
      const sha = crypto.createHash('sha256').update(data).digest('hex');
      expect(r).toEqual({ status: 200, json: { inMemory: false, size: data.length, sha, saved: sha } });
      expect(sawOnDisk).toBe(0); // unlinked as soon as it was created
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const malformed: Array<[string, string, Buffer, number, string, FormOptions?]> = [
    ['a multipart Content-Type without a boundary', 'multipart/form-data', multipart([{ name: 'a', value: '1' }]), 400, 'TSGI_ERR_FORM_BOUNDARY_MISSING'],
    ['a body without the boundary', `multipart/form-data; boundary=${B}`, Buffer.from('just some bytes'), 400, 'TSGI_ERR_FORM_MALFORMED'],
    ['a part without Content-Disposition', `multipart/form-data; boundary=${B}`, Buffer.from(`--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${B}--\r\n`), 400, 'TSGI_ERR_FORM_MALFORMED'],
    ['a truncated part', `multipart/form-data; boundary=${B}`, multipart([{ name: 'a', value: 'complete' }, { name: 'b', value: 'cut off here' }]).subarray(0, -20), 400, 'TSGI_ERR_FORM_TRUNCATED'],
    ['a body without the closing boundary', `multipart/form-data; boundary=${B}`, multipart([{ name: 'a', value: '1' }]).subarray(0, -(B.length + 6)), 400, 'TSGI_ERR_FORM_TRUNCATED'],
    ['too many parts', `multipart/form-data; boundary=${B}`, multipart(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, value: 'v' }))), 413, 'TSGI_ERR_FORM_TOO_MANY_PARTS', { maxParts: 5 }],
    ['too many urlencoded fields', 'application/x-www-form-urlencoded', Buffer.from('a=1&b=2&c=3'), 413, 'TSGI_ERR_FORM_TOO_MANY_PARTS', { maxParts: 2 }],
    ['a field over maxFieldSize', `multipart/form-data; boundary=${B}`, multipart([{ name: 'a', value: 'x'.repeat(2000) }]), 413, 'TSGI_ERR_FORM_PART_TOO_LARGE', { maxFieldSize: 1000 }],
    ['a file over maxFileSize', `multipart/form-data; boundary=${B}`, multipart([{ name: 'a', value: Buffer.alloc(300_000), filename: 'f' }]), 413, 'TSGI_ERR_FORM_PART_TOO_LARGE', { maxFileSize: 200_000 }],
    ['part headers over maxHeaderSize', `multipart/form-data; boundary=${B}`, Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\nX-Pad: ${'p'.repeat(3000)}\r\n\r\nv\r\n--${B}--\r\n`), 413, 'TSGI_ERR_FORM_PART_TOO_LARGE', { maxHeaderSize: 1024 }],
    ['a body over maxTotalSize', `multipart/form-data; boundary=${B}`, multipart([{ name: 'a', value: 'x'.repeat(5000) }]), 413, 'TSGI_ERR_FORM_TOO_LARGE', { maxTotalSize: 4096 }],
    ['a type that is not a form', 'application/json', Buffer.from('{}'), 415, 'TSGI_ERR_FORM_UNSUPPORTED_TYPE'],
  ];
  it.each(malformed)('%s → %i %s', async (_name, type, body, status, code, options) => {
    await formServer(options);
    const r = await send(post(type, body));
    expect(r.status).toBe(status);
    expect(r.json.code).toBe(code);
  });
});

describe('Request headers and cookies over a socket', () => {
  it('headers are case-insensitive and include CONTENT_TYPE/CONTENT_LENGTH; cookies are parsed leniently', async () => {
    let req!: Request;
    ts = await startServer((env, sr) => { req = new Request(env); req.body(); sr('200 OK', []); return []; });
    await rawRequest(ts.port, post('text/plain', 'hi').toString('latin1').replace('Host: h\r\n', 'Host: h\r\nX-Name: J\xc3\xbcrgen\r\nCookie: a=1; junk; b="2"\r\n'));
    expect(req.headers.get('content-type')).toBe('text/plain');
    expect(req.headers.get('Content-Length')).toBe('2');
    expect(req.headers.get('X-NAME')).toBe('Jürgen');
    expect(req.headers.has('x-name')).toBe(true);
    expect(req.headers.has('x-other')).toBe(false);
    expect(Object.fromEntries(req.headers.entries())).toMatchObject({ host: 'h', 'x-name': 'Jürgen' });
    expect(Object.fromEntries(req.cookies)).toEqual({ a: '1', b: '2' });
  });
});
