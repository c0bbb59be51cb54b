// The --help text, generated from the settings registry.
import type { Setting } from '../settings/setting';
import { SECTIONS, SETTINGS } from '../settings/registry';
import { formatDuration } from '../settings/units';

function placeholder(s: Setting): string {
  switch (s.type) {
    case 'boolean': return '';
    case 'int': return ' N';
    case 'bytes': return ' SIZE';
    case 'duration': return ' TIME';
    case 'list': return s.name === 'bind' ? ' ADDR' : ' VALUE';
    default: return s.choices ? ` {${s.choices.join(',')}}` : ' VALUE';
  }
}

function defaultText(s: Setting): string {
  const v = s.default;
  if (s.type === 'boolean' || v === '' || (Array.isArray(v) && v.length === 0)) return '';
  if (s.type === 'duration') return ` [default: ${formatDuration(v as number)}]`;
  return ` [default: ${Array.isArray(v) ? v.join(', ') : v}]`;
}

function wrap(text: string, width: number, indent: number): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? line + ' ' + w : w;
  }
  if (line) lines.push(line);
  return lines.join('\n' + ' '.repeat(indent));
}

export function helpText(version: string): string {
  const col = 34;
  const out = [
    `tsgi ${version} — a WSGI-style application server for Node.js`,
    '',
    'Usage:',
    '  tsgi MODULE[:EXPORT] [options]   serve the application (EXPORT defaults to app)',
    '  tsgi top [--once] ADDR           live view of the workers of a server started with --stats ADDR',
    '                                   (tsgi top --help for its options)',
    '  tsgi bench MODULE[:EXPORT]       measure the application on tsgi against node:http',
    '                                   (tsgi bench --help for its options)',
    '',
    'MODULE is a .js, .mjs, .cjs or .ts file. EXPORT may name a factory to call: app.js:createApp()',
    '',
    'Actions:',
    '  -h, --help                       show this help',
    '  -v, --version                    show the version',
    '  --check                          load the application, serve it one GET /, report, and exit (0 when it answers)',
    '  --print-config                   show every setting after precedence, and where it came from',
    '',
    'Every option below can also be set with its TSGI_* environment variable or in tsgi.config.{js,mjs,cjs,ts,json};',
    'the command line wins over the environment, which wins over the config file.',
    'TIME is seconds (--timeout 30), or has a unit: 500ms, 1.5s, 2m. SIZE is bytes, or 64KB, 10MB.',
  ];
  const sections = [...SECTIONS, ...SETTINGS.map((s) => s.section)].filter((s, i, all) => all.indexOf(s) === i);
  for (const section of sections) {
    const group = SETTINGS.filter((s) => s.section === section);
    if (group.length === 0) continue;
    out.push('', `${section[0].toUpperCase()}${section.slice(1)}:`);
    for (const s of group) {
      const short = s.short;
      let left = `  ${short ? short + ', ' : ''}${s.cli}${placeholder(s)}`;
      if (s.type === 'boolean') left += `, --no-${s.cli.slice(2)}`;
      const doc = wrap(`${s.doc}${defaultText(s)} (${s.env})`, 100 - col, col);
      out.push(left.length < col ? left.padEnd(col) + doc : left + '\n' + ' '.repeat(col) + doc);
    }
  }
  return out.join('\n') + '\n';
}
