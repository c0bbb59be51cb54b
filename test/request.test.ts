// The Request helper: UTF-8 views over a faithful environ.
import { describe, expect, it } from 'vitest';
import { buildEnviron } from '../src/environ';
import { ErrorOutput } from '../src/errors-stream';
import { fileWrapper } from '../src/file-wrapper';
import { RequestInput } from '../src/input';
import { Request, decodeNative, encodeNative } from '../src/index';
import type { FileWrapperFactory } from '../src/types';
import { KNOWN, synthesize, type SyntheticRequest } from './helpers/record';

function request(req: SyntheticRequest, body = '') {
  const { rec, head } = synthesize(req);
  const buf = Buffer.from(body, 'utf8');
  const ctx = { scriptName: '/app', urlScheme: 'https', multithread: false, multiprocess: false, errors: new ErrorOutput(process.stderr), fileWrapper: fileWrapper as FileWrapperFactory, knownKeys: KNOWN, serverNames: ['srv'], serverPorts: ['443'] };
  return new Request(buildEnviron(ctx, rec, head, 1, new RequestInput(buf, -1, buf.length), buf.length));
}

describe('Request', () => {
  it('decodes path, query and headers as UTF-8 while the environ stays latin-1', () => {
    const r = request({ target: '/app/caf%C3%A9?q=%C3%A9t%C3%A9&n=1', headers: [['HTTP_HOST', 'example.com'], ['HTTP_X_NAME', 'J\xc3\xbcrgen']] });
    expect(r.environ.PATH_INFO).toBe('/caf\xc3\xa9');
    expect(r.path).toBe('/café');
    expect(r.scriptRoot).toBe('/app');
    expect(r.fullPath).toBe('/app/café');
    expect(r.query.get('q')).toBe('été');
    expect(r.header('X-Name')).toBe('Jürgen');
    expect(r.headers.get('host')).toBe('example.com');
    expect(r.url).toBe('https://example.com/app/caf%C3%A9?q=%C3%A9t%C3%A9&n=1');
  });

  it('reads the body once as text, JSON or a form', async () => {
    const r = request({ method: 'POST', target: '/app/x', headers: [['CONTENT_TYPE', 'application/json'], ['CONTENT_LENGTH', '15']] }, '{"a":[1,"é"]}');
    expect(r.json()).toEqual({ a: [1, 'é'] });
    expect(r.text()).toBe('{"a":[1,"é"]}');
    expect(r.contentType).toBe('application/json');
    expect((await request({ method: 'POST', target: '/app/', }, 'a=1&b=%C3%A9').form()).get('b')).toBe('é');
  });

  it('parses cookies', () => {
    const r = request({ target: '/app/', headers: [['HTTP_COOKIE', 'a=1'], ['HTTP_COOKIE', 'b="two"; c=%C3%A9']] });
    expect(Object.fromEntries(r.cookies)).toEqual({ a: '1', b: 'two', c: 'é' });
  });

  it('decodeNative and encodeNative are inverses', () => {
    expect(encodeNative('é☃')).toBe('\xc3\xa9\xe2\x98\x83');
    expect(decodeNative(encodeNative('é☃ x'))).toBe('é☃ x');
  });
});
