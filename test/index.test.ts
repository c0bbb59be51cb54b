// The public module: exports the API and loads no native code at import time.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index';

describe('tsgi public module', () => {
  it('exports the embedding API, the Request helper and the error classes', () => {
    for (const name of ['serve', 'createServer', 'Server', 'Request', 'fileWrapper', 'FileWrapper', 'parseBind', 'formatBind', 'TsgiError', 'ApplicationError', 'OptionError', 'ListenError', 'ERROR_CODES', 'Logger', 'validator', 'ValidationError', 'Response', 'RequestHeaders', 'Form', 'UploadedFile', 'FORM_DEFAULTS', 'FormError']) {
      expect(api, name).toHaveProperty(name);
    }
  });

  it('importing it does not load the native addon (binding() is lazy)', () => {
    const root = path.join(__dirname, '..');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e',
      "const api = require('./src/index.ts'); console.log(typeof api.serve, Object.keys(require.cache).filter((k) => k.endsWith('.node')).length)"], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe('function 0');
  });
});
