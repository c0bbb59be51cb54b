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

function cmakeSources(): string[] {
  const text = fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8').replace(/#.*$/gm, '');
  const m = /set\(\s*TSGI_ADDON_SOURCES\s+([^)]*)\)/.exec(text);
  if (!m) throw new Error('CMakeLists.txt: no set(TSGI_ADDON_SOURCES ...)');
  return m[1].split(/\s+/).filter(Boolean).sort();
}

describe('native build sources', () => {
  it('binding.gyp and CMakeLists.txt list the same sources', () => {
    expect(cmakeSources()).toEqual(gypSources());
  });

  it('every native .cc file (subdirectories included, the tests not) is built, and every listed file exists', () => {
    const onDisk = (fs.readdirSync(path.join(root, 'native'), { recursive: true }) as string[])
      .map((f) => f.split(path.sep).join('/'))
      .filter((f) => f.endsWith('.cc') && !f.startsWith('test/') && !f.startsWith('unit/'))
      .map((f) => `native/${f}`)
      .sort();
    expect(gypSources()).toEqual(onDisk);
  });

  it('the addon target of CMakeLists.txt is built from that list', () => {
    const text = fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8');
    expect(text).toMatch(/add_library\(tsgi SHARED \$\{TSGI_ADDON_SOURCES\}/);
  });
});
