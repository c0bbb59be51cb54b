// The config file: found in the working directory in a documented order, in JavaScript,
// TypeScript (compiled on load by tsx, as applications are) or JSON.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CONFIG_NAMES, resolveSettings } from '../src/settings/sources';
import { killAll, run, removeTmpdirs, tmpdir } from './manager-harness';

afterEach(killAll);
afterAll(removeTmpdirs);

const TS_CONFIG = `// TypeScript syntax: an interface, annotations and 'as const'.
interface Config { workers: number; bind: string[]; timeout: string }
const workers: number = 2 + 1;
const config: Config = { workers, bind: ['127.0.0.1:9100'], timeout: '45s' };
export default config;
`;

describe('config files', () => {
  it('the lookup order is js, mjs, cjs, ts, mts, cts, json', () => {
    expect(CONFIG_NAMES).toEqual(['tsgi.config.js', 'tsgi.config.mjs', 'tsgi.config.cjs', 'tsgi.config.ts', 'tsgi.config.mts', 'tsgi.config.cts', 'tsgi.config.json']);
  });

  it('tsgi.config.ts is found and compiled, with TypeScript syntax', async () => {
    const d = tmpdir();
    fs.writeFileSync(path.join(d, 'tsgi.config.ts'), TS_CONFIG);
    const r = await resolveSettings({ cli: new Map(), env: {}, cwd: d });
    expect(r.configFile).toBe(path.join(d, 'tsgi.config.ts'));
    expect([r.values.workers, r.values.bind, r.values.timeout]).toEqual([3, ['127.0.0.1:9100'], 45_000]);
    expect(r.sources.workers).toBe('config');
  });

  it('tsgi.config.mts (an ES module, top-level await) and tsgi.config.cts (CommonJS) are found', async () => {
    // Through the real command: ES modules are imported with node's own loader.
    let d = tmpdir();
    fs.writeFileSync(path.join(d, 'tsgi.config.mts'), 'const n: number = await Promise.resolve(5);\nexport default { workers: n };\n');
    let r = await run(['--print-config'], { cwd: d });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^workers +\s= 5 +\(config\)$/m);
    expect(r.stdout).toContain(path.join(d, 'tsgi.config.mts'));
    d = tmpdir();
    fs.writeFileSync(path.join(d, 'tsgi.config.cts'), 'const threads: number = 2;\nmodule.exports = { threads };\n');
    r = await run(['--print-config'], { cwd: d });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^threads +\s= 2 +\(config\)$/m);
  });

  it('an .mts application with top-level await loads (through the same loader)', async () => {
    const d = tmpdir();
    fs.writeFileSync(path.join(d, 'app.mts'), `const word: string = await Promise.resolve('awaited');
export const app = (environ: unknown, startResponse: (s: string, h: Array<[string, string]>) => void): string[] => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [word];
};
`);
    const r = await run(['app.mts', '--check'], { cwd: d });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/app\.mts: the application loads \(tsgi app, .*\) and answers GET \/ with 200/);
  });

  it('tsgi.config.cjs is found, and a function export is called', async () => {
    const d = tmpdir();
    fs.writeFileSync(path.join(d, 'tsgi.config.cjs'), 'module.exports = () => ({ workers: 6 });\n');
    const r = await resolveSettings({ cli: new Map(), env: {}, cwd: d });
    expect([r.configFile, r.values.workers]).toEqual([path.join(d, 'tsgi.config.cjs'), 6]);
  });

  it('a .ts config is read anew each time (as on HUP)', async () => {
    const d = tmpdir();
    const file = path.join(d, 'tsgi.config.ts');
    fs.writeFileSync(file, 'export default { workers: 2 as number };\n');
    expect((await resolveSettings({ cli: new Map(), env: {}, cwd: d })).values.workers).toBe(2);
    fs.writeFileSync(file, 'export default { workers: 4 as number };\n');
    expect((await resolveSettings({ cli: new Map(), env: {}, cwd: d })).values.workers).toBe(4);
  });

  it('--config names a .ts file; a TypeScript error names the file', async () => {
    const d = tmpdir();
    fs.writeFileSync(path.join(d, 'prod.ts'), TS_CONFIG);
    let r = await run(['--print-config', '--config', 'prod.ts'], { cwd: d });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^workers +\s= 3 +\(config\)$/m);
    expect(r.stdout).toMatch(/^timeout +\s= "45s" +\(config\)$/m);
    fs.writeFileSync(path.join(d, 'tsgi.config.ts'), 'export default { workers: };\n');
    r = await run(['--print-config'], { cwd: d });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config file .*tsgi\.config\.ts: /);
  });
});
