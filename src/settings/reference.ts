// Generates docs/settings.md, the reference page of every setting, from the registry.
import type { Setting } from './setting';
import { SECTIONS, SETTINGS } from './registry';
import { formatDuration } from './units';

function shown(s: Setting): string {
  const v = s.default;
  if (Array.isArray(v)) return v.length ? v.map((x) => '`' + x + '`').join(', ') : '(none)';
  if (v === '') return '(empty)';
  if (s.type === 'duration' && typeof v === 'number') return '`' + formatDuration(v) + '`';
  return '`' + String(v) + '`';
}

function bounds(s: Setting): string {
  const parts: string[] = [];
  const n = (v: number) => (s.type === 'duration' ? formatDuration(v) : String(v));
  if (s.min !== undefined) parts.push(`at least ${n(s.min)}`);
  if (s.max !== undefined) parts.push(`at most ${n(s.max)}`);
  if (s.choices) parts.push('one of ' + s.choices.map((c) => '`' + c + '`').join(', '));
  return parts.join('; ');
}

const escape = (text: string) => text.replace(/\|/g, '\\|');

export function settingsReference(settings: readonly Setting[] = SETTINGS): string {
  const out: string[] = [
    '# Settings reference',
    '',
    '<!-- Generated from the settings registry (src/settings/) by `node bin/tsgi.js --settings-reference`. Do not edit by hand. -->',
    '',
    'Every setting can be given on the command line, as a `TSGI_*` environment variable, or as a',
    'key of the config file (`tsgi.config.js`, `.mjs`, `.cjs`, `.ts`, `.mts`, `.cts`, `.json`, or `--config FILE`;',
    'see cli.md for the lookup order).',
    'When a setting is given in several places, the command line wins over the environment, which wins',
    'over the config file, which wins over the default. `tsgi --print-config` shows the merged result.',
    '',
    'Types: a *duration* given as a bare number is **seconds** (`--timeout 30`, `TSGI_TIMEOUT=30`, `timeout: 30`',
    'in a config file), as in Gunicorn and uWSGI; text may name a unit: `500ms`, `1.5s`, `2m`, `1h`. (The embedding',
    'API, `createServer` options, takes milliseconds, as JavaScript APIs do; see api.md.) *bytes* values are bytes,',
    'or text such as `64KB`, `10MB`; *list* settings repeat on the command line and are comma-separated in',
    'the environment.',
    '',
  ];
  const sections = [...SECTIONS, ...new Set(settings.map((s) => s.section))].filter((sec, i, all) => all.indexOf(sec) === i);
  for (const section of sections) {
    const group = settings.filter((s) => s.section === section);
    if (group.length === 0) continue;
    out.push(`## ${section[0].toUpperCase()}${section.slice(1)}`, '');
    out.push('| Setting | Flag | Environment | Type | Default | Description |', '|---|---|---|---|---|---|');
    for (const s of group) {
      const extra = bounds(s);
      out.push(`| \`${s.name}\` | ${s.short ? `\`${s.short}\`, ` : ''}\`${s.cli}\` | \`${s.env}\` | ${s.type} | ${escape(shown(s))} | ${escape(s.doc)}${extra ? ` (${extra})` : ''} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
