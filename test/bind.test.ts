// Bind strings shared by the embedding API and the CLI.
import { describe, expect, it } from 'vitest';
import { formatBind, parseBind } from '../src/bind';

describe('bind strings', () => {
  it.each([
    ['127.0.0.1:8000', { kind: 'tcp', host: '127.0.0.1', port: 8000 }],
    ['0.0.0.0:80', { kind: 'tcp', host: '0.0.0.0', port: 80 }],
    ['localhost:0', { kind: 'tcp', host: 'localhost', port: 0 }],
    [':8000', { kind: 'tcp', host: '', port: 8000 }],
    ['8000', { kind: 'tcp', host: '', port: 8000 }],
    ['[::1]:9000', { kind: 'tcp', host: '::1', port: 9000 }],
    ['[::]:9000', { kind: 'tcp', host: '::', port: 9000 }],
    ['unix:/run/app.sock', { kind: 'unix', path: '/run/app.sock' }],
    ['unix:relative.sock', { kind: 'unix', path: 'relative.sock' }],
    ['fd://3', { kind: 'fd', fd: 3 }],
  ])('%s', (text, expected) => {
    const b = parseBind(text);
    expect(b).toEqual(expected);
    expect(parseBind(formatBind(b))).toEqual(expected);
  });

  it.each(['', 'localhost', '127.0.0.1:', '127.0.0.1:http', '1.2.3.4:70000', '::1:80', '[::1]', 'unix:', 'fd://x', 'fd://'])(
    '%j is refused with TSGI_ERR_INVALID_BIND and says what forms are accepted', (text) => {
      expect(() => parseBind(text)).toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_BIND', message: expect.stringContaining('HOST:PORT') }));
    });
});
