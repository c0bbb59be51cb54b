// `npm run bench -- --update-docs` on copies of docs/benchmarks.md and README.md: the
// results land once, between the marker lines, and nothing else in the files changes,
// however often it runs. Markers quoted in the prose are text, not markers.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { updateDocs, updateMarkedSection } = require('../bench/run.js');
const markdown = require('../bench/report/markdown.js');

const ROOT = path.join(__dirname, '..');
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';
const latest = JSON.parse(fs.readFileSync(path.join(ROOT, 'bench', 'results', 'latest.json'), 'utf8'));

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-docs-'));
  dirs.push(dir);
  return dir;
}

/** Splits a file at its marker lines: [before, between, after]; fails unless there is exactly one of each. */
function split(text: string): [string, string, string] {
  const lines = text.split('\n');
  expect(lines.filter((l) => l === START)).toHaveLength(1);
  expect(lines.filter((l) => l === END)).toHaveLength(1);
  const a = text.indexOf(`\n${START}\n`) + START.length + 2;
  const b = text.indexOf(`\n${END}\n`) + 1;
  expect(b).toBeGreaterThan(a);
  return [text.slice(0, a), text.slice(a, b), text.slice(b)];
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('bench --update-docs', () => {
  it('writes the results once between the markers of docs/benchmarks.md and README.md, and nothing else, run after run', () => {
    const root = scratch();
    fs.mkdirSync(path.join(root, 'docs'));
    const files = { docs: path.join(root, 'docs', 'benchmarks.md'), readme: path.join(root, 'README.md') };
    const original = {
      docs: fs.readFileSync(path.join(ROOT, 'docs', 'benchmarks.md'), 'utf8'),
      readme: fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'),
    };
    fs.writeFileSync(files.docs, original.docs);
    fs.writeFileSync(files.readme, original.readme);
    const outDir = path.join(root, 'bench', 'results');
    const expected = {
      docs: markdown.render(latest, { chart: '../bench/results/latest.svg' }),
      readme: markdown.render(latest, { chart: 'bench/results/latest.svg' }),
    };
    const tableHead = '| Scenario | Server |';

    const after: Record<string, string>[] = [];
    for (let run = 0; run < 2; run++) {
      expect(updateDocs(latest, outDir, root)).toEqual([files.docs, files.readme]);
      const texts: Record<string, string> = {};
      for (const which of ['docs', 'readme'] as const) {
        const text = fs.readFileSync(files[which], 'utf8');
        texts[which] = text;
        const [before, between, rest] = split(text);
        const [origBefore, , origRest] = split(original[which]);
        expect(before, which).toBe(origBefore);
        expect(rest, which).toBe(origRest);
        expect(between, which).toBe(`${expected[which]}\n`);
        expect(count(text, tableHead), which).toBe(1);
        expect(count(between, tableHead), which).toBe(1);
        expect(count(text, '![tsgi benchmark chart]'), which).toBe(1);
        expect(count(text, 'latest.svg)'), which).toBe(1);
      }
      after.push(texts);
    }
    expect(after[1]).toEqual(after[0]);
    // The committed docs show the committed run, bench/results/latest.json.
    expect(after[0].docs).toBe(original.docs);
    expect(after[0].readme).toBe(original.readme);
    expect(original.docs).not.toContain('No full run has been recorded');
  });

  it('leaves markers quoted in a sentence alone and replaces only between the marker lines', () => {
    const file = path.join(scratch(), 'doc.md');
    const prose = `# Results\n\nRewritten by the bench. A README that carries the same\n\`${START}\` / \`${END}\` markers is updated too.\n\n`;
    const tail = '\n## Next\n\nMore text.\n';
    fs.writeFileSync(file, `${prose}${START}\nNo run yet.\n${END}${tail}`);
    for (let run = 0; run < 2; run++) {
      expect(updateMarkedSection(file, latest, 'chart.svg')).toBe(true);
      expect(fs.readFileSync(file, 'utf8')).toBe(`${prose}${START}\n${markdown.render(latest, { chart: 'chart.svg' })}\n${END}${tail}`);
    }
  });

  it('refuses markers that are not one start line followed by one end line, and leaves the file as it was', () => {
    const file = path.join(scratch(), 'doc.md');
    for (const text of [
      `a\n${START}\nx\n${END}\n${START}\ny\n${END}\n`,
      `a\n${END}\nx\n${START}\n`,
      `a\n${START}\nx\n`,
    ]) {
      fs.writeFileSync(file, text);
      expect(() => updateMarkedSection(file, latest, 'chart.svg')).toThrow(/expected one line "<!-- bench:start -->" followed by one line "<!-- bench:end -->"/);
      expect(fs.readFileSync(file, 'utf8')).toBe(text);
    }
  });
});
