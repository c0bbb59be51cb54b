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
  ])('%s', (text, location) => {
    const expected = { ...location, protocol: 'http', tls: false };
    const b = parseBind(text);
    expect(b).toEqual(expected);
    expect(parseBind(formatBind(b))).toEqual(expected);
  });

  it.each([
    ['https://0.0.0.0:8443', { kind: 'tcp', host: '0.0.0.0', port: 8443, protocol: 'http', tls: true }, 'https://0.0.0.0:8443'],
    ['https://[::]:8443', { kind: 'tcp', host: '::', port: 8443, protocol: 'http', tls: true }, 'https://[::]:8443'],
    ['HTTPS://:8443', { kind: 'tcp', host: '', port: 8443, protocol: 'http', tls: true }, 'https://:8443'],
    ['https+unix:/run/app.sock', { kind: 'unix', path: '/run/app.sock', protocol: 'http', tls: true }, 'https+unix:/run/app.sock'],
    ['https+fd://3', { kind: 'fd', fd: 3, protocol: 'http', tls: true }, 'https+fd://3'],
    ['uwsgi://127.0.0.1:3031', { kind: 'tcp', host: '127.0.0.1', port: 3031, protocol: 'uwsgi', tls: false }, 'uwsgi://127.0.0.1:3031'],
    ['uwsgi+unix:/run/app.sock', { kind: 'unix', path: '/run/app.sock', protocol: 'uwsgi', tls: false }, 'uwsgi+unix:/run/app.sock'],
    ['uwsgi+fd://4', { kind: 'fd', fd: 4, protocol: 'uwsgi', tls: false }, 'uwsgi+fd://4'],
    ['http://127.0.0.1:8000', { kind: 'tcp', host: '127.0.0.1', port: 8000, protocol: 'http', tls: false }, '127.0.0.1:8000'],
    ['http+unix:/run/app.sock', { kind: 'unix', path: '/run/app.sock', protocol: 'http', tls: false }, 'unix:/run/app.sock'],
  ])('%s carries its protocol and TLS', (text, expected, canonical) => {
    const b = parseBind(text);
    expect(b).toEqual(expected);
    expect(formatBind(b)).toBe(canonical);
    expect(parseBind(formatBind(b))).toEqual(expected);
  });

  it.each([
    ['ftp://127.0.0.1:21', 'the scheme "ftp" is not known'],
    ['uwsgis://127.0.0.1:3031', 'the scheme "uwsgis" is not known'],
    ['https://unix:/run/app.sock', 'write https+unix:PATH'],
    ['uwsgi://fd://3', 'write uwsgi+fd://N'],
    ['https://', 'the address is missing'],
    ['https://127.0.0.1:8443/', 'has no path'],
    ['https://127.0.0.1', 'the port is missing'],
  ])('%j is refused, saying why', (text, why) => {
    expect(() => parseBind(text)).toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_BIND', message: expect.stringContaining(why) }));
  });

  it.each(['', 'localhost', '127.0.0.1:', '127.0.0.1:http', '1.2.3.4:70000', '::1:80', '[::1]', 'unix:', 'fd://x', 'fd://'])(
    '%j is refused with TSGI_ERR_INVALID_BIND and says what forms are accepted', (text) => {
      expect(() => parseBind(text)).toThrow(expect.objectContaining({ code: 'TSGI_ERR_INVALID_BIND', message: expect.stringContaining('HOST:PORT') }));
    });
});
