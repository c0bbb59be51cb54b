// Every error code of the registry is documented in docs/api.md.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { ERROR_CODES, TsgiError, ApplicationError, ListenError, OptionError } from '../src/errors';
import { ConfigError } from '../src/settings/config-error';
import { AppLoadError } from '../src/app-loader';
import { createServer, parseBind } from '../src/index';

describe('error registry', () => {
  it('docs/api.md lists every error code', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'api.md'), 'utf8');
    const missing = Object.keys(ERROR_CODES).filter((c) => !doc.includes(c));
    expect(missing).toEqual([]);
  });

  it('errors carry their stable code; the first line of the stack names the class and the code', () => {
    const e = new ApplicationError('TSGI_ERR_INVALID_STATUS', 'bad');
    expect(e).toBeInstanceOf(TsgiError);
    expect(e.code).toBe('TSGI_ERR_INVALID_STATUS');
    expect(e.stack!.split('\n')[0]).toBe('ApplicationError [TSGI_ERR_INVALID_STATUS]: bad');
  });

  it('each error class has its own name', () => {
    const cases: Array<[Error, string, string]> = [
      [new TsgiError('TSGI_ERR_CONFIG', 'm'), 'TsgiError', 'TSGI_ERR_CONFIG'],
      [new OptionError('TSGI_ERR_INVALID_OPTION', 'm'), 'OptionError', 'TSGI_ERR_INVALID_OPTION'],
      [new ApplicationError('TSGI_ERR_INVALID_BODY', 'm'), 'ApplicationError', 'TSGI_ERR_INVALID_BODY'],
      [new ListenError('m', 'EADDRINUSE', undefined), 'ListenError', 'TSGI_ERR_LISTEN'],
      [new ConfigError('m'), 'ConfigError', 'TSGI_ERR_CONFIG'],
      [new AppLoadError('m'), 'AppLoadError', 'TSGI_ERR_APP_LOAD'],
    ];
    for (const [e, name, code] of cases) {
      expect(e.name, name).toBe(name);
      expect(String(e), name).toBe(`${name}: m`);
      expect(e.stack!.split('\n')[0], name).toBe(`${name} [${code}]: m`);
      expect(Object.keys(e), name).not.toContain('name');
    }
  });

  it('the errors the API throws carry their class names', async () => {
    const app = () => [];
    let thrown: unknown;
    try { createServer(app, { bogus: 1 } as never); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(OptionError);
    expect((thrown as Error).name).toBe('OptionError');
    expect((thrown as OptionError).code).toBe('TSGI_ERR_INVALID_OPTION');
    expect(() => parseBind('nonsense:port')).toThrow(expect.objectContaining({ name: 'OptionError', code: 'TSGI_ERR_INVALID_BIND' }));

    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const err = await createServer(app, { host: '127.0.0.1', port }).listen().then(() => undefined, (e) => e);
      expect(err).toBeInstanceOf(ListenError);
      expect(err.name).toBe('ListenError');
      expect(err.stack.split('\n')[0]).toMatch(/^ListenError \[TSGI_ERR_LISTEN\]: /);
    } finally {
      taken.close();
    }
  });
});
