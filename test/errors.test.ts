// Every error code of the registry is documented in docs/api.md.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, TsgiError, ApplicationError } from '../src/errors';

describe('error registry', () => {
  it('docs/api.md lists every error code', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'api.md'), 'utf8');
    const missing = Object.keys(ERROR_CODES).filter((c) => !doc.includes(c));
    expect(missing).toEqual([]);
  });

  it('errors carry their stable code and name it', () => {
    const e = new ApplicationError('TSGI_ERR_INVALID_STATUS', 'bad');
    expect(e).toBeInstanceOf(TsgiError);
    expect(e.code).toBe('TSGI_ERR_INVALID_STATUS');
    expect(e.name).toContain('TSGI_ERR_INVALID_STATUS');
  });
});
