// The public module: exports the API and loads no native code at import time.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index';

describe('tsgi public module', () => {
  it('exports the embedding API, the helpers, the error classes and the fetch adapters', () => {
    for (const name of ['serve', 'createServer', 'Server', 'Request', 'fileWrapper', 'FileWrapper', 'parseBind', 'formatBind', 'TsgiError', 'ApplicationError', 'OptionError', 'ListenError', 'ERROR_CODES', 'Logger', 'fromFetch', 'toFetch', 'validator', 'ValidationError', 'Response', 'RequestHeaders', 'Form', 'UploadedFile', 'FORM_DEFAULTS', 'FormError']) {
      expect(api, name).toHaveProperty(name);
    }
  });

  it('exports the node:http adapters', () => {
    expect(typeof api.fromNodeHandler).toBe('function');
    expect(typeof api.toNodeHandler).toBe('function');
  });

  it('exports the middleware kit, and docs/api.md documents each export', () => {
    const fs = require('node:fs') as typeof import('node:fs');
    const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'api.md'), 'utf8');
    for (const name of ['compose', 'mount', 'staticFiles', 'compress', 'proxyFix', 'isCompressible', 'MIME_TYPES', 'PROXY_FIX_ORIG']) {
      expect(api, name).toHaveProperty(name);
      expect(doc, `docs/api.md mentions ${name}`).toContain('`' + name);
    }
    for (const heading of ['### compose(', '### mount(', '### staticFiles(', '### compress(', '### proxyFix(']) expect(doc).toContain(heading);
  });

  it('importing it does not load the native addon (binding() is lazy)', () => {
    const root = path.join(__dirname, '..');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e',
      "const api = require('./src/index.ts'); console.log(typeof api.serve, Object.keys(require.cache).filter((k) => k.endsWith('.node')).length)"], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe('function 0');
  });

  it("importing it (and the export detection the workers use) does not load Node's fetch implementation", () => {
    const root = path.join(__dirname, '..');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e',
      "require('./src/index.ts'); require('./src/adapters/detect.ts'); console.log(process.moduleLoadList.some((m) => m.includes('undici')))"], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toBe('false');
  });
});
