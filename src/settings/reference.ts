// Generates docs/settings.md, the reference page of every setting, from the registry.
import type { Setting } from './setting';
import { SECTIONS, SETTINGS } from './registry';

function shown(s: Setting): string {
  const v = s.default;
  if (Array.isArray(v)) return v.length ? v.map((x) => '`' + x + '`').join(', ') : '(none)';
  if (v === '') return '(empty)';
  if (s.type === 'duration' && typeof v === 'number') return `\`${v}\` ms`;
  return '`' + String(v) + '`';
}

function bounds(s: Setting): string {
  const parts: string[] = [];
  if (s.min !== undefined) parts.push(`at least ${s.min}`);
  if (s.max !== undefined) parts.push(`at most ${s.max}`);
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
    'key of the config file (`tsgi.config.js`, `tsgi.config.mjs`, `tsgi.config.json`, or `--config FILE`).',
    'When a setting is given in several places, the command line wins over the environment, which wins',
    'over the config file, which wins over the default. `tsgi --print-config` shows the merged result.',
    '',
    'Types: *duration* values are milliseconds, or text such as `500ms`, `30s`, `5m`; *bytes* values are bytes,',
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
