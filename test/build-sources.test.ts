// binding.gyp (node-gyp) and CMakeLists.txt (cmake-js) build the same addon: their
// source lists must not drift apart, and every native .cc file must be in them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');

function gypSources(): string[] {
  // binding.gyp is a Python literal; this one is plain JSON.
  const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
  const target = gyp.targets.find((t: { target_name: string }) => t.target_name === 'tsgi');
  return [...target.sources].sort();
}

/** The optional Python addon's sources (a target under binding.gyp's conditions). */
function gypPythonSources(): string[] {
  const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
  for (const [, branch] of gyp.conditions ?? []) {
    const target = branch.targets?.find((t: { target_name: string }) => t.target_name === 'tsgi_python');
    if (target) return [...target.sources].sort();
  }
  throw new Error('binding.gyp: no tsgi_python target');
}

function cmakeSources(list = 'TSGI_ADDON_SOURCES'): string[] {
  const text = fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8').replace(/#.*$/gm, '');
  const m = new RegExp(`set\\(\\s*${list}\\s+([^)]*)\\)`).exec(text);
  if (!m) throw new Error(`CMakeLists.txt: no set(${list} ...)`);
  return m[1].split(/\s+/).filter(Boolean).sort();
}

describe('native build sources', () => {
  it('binding.gyp and CMakeLists.txt list the same sources', () => {
    expect(cmakeSources()).toEqual(gypSources());
  });

  it('every native .cc file (subdirectories included, the tests and the Python addon not) is built, and every listed file exists', () => {
    const onDisk = (fs.readdirSync(path.join(root, 'native'), { recursive: true }) as string[])
      .map((f) => f.split(path.sep).join('/'))
      .filter((f) => f.endsWith('.cc') && !f.startsWith('test/') && !f.startsWith('unit/') && !f.startsWith('python/'))
      .map((f) => `native/${f}`)
      .sort();
    expect(gypSources()).toEqual(onDisk);
  });

  it('the Python addon has the same sources in both, and every native/python/*.cc is built', () => {
    expect(cmakeSources('TSGI_PYTHON_SOURCES')).toEqual(gypPythonSources());
    // Plain C++ files of the core it shares (the allow list's address matching) exist.
    const shared = gypPythonSources().filter((f) => !f.startsWith('native/python/'));
    for (const f of shared) expect(fs.existsSync(path.join(root, f)), f).toBe(true);
    const onDisk = fs.readdirSync(path.join(root, 'native', 'python'))
      .filter((f) => f.endsWith('.cc'))
      .map((f) => `native/python/${f}`)
      .sort();
    expect(gypPythonSources().filter((f) => f.startsWith('native/python/'))).toEqual(onDisk);
  });

  it('the addon target of CMakeLists.txt is built from that list', () => {
    const text = fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8');
    expect(text).toMatch(/add_library\(tsgi SHARED \$\{TSGI_ADDON_SOURCES\}/);
  });
});
