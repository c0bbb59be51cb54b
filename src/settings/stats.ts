// The stats endpoint served by the master.
import { defineSetting } from './setting';

export const stats = defineSetting<string>({
  name: 'stats',
  section: 'stats',
  type: 'string',
  default: '',
  doc: "Address ('HOST:PORT' or 'unix:PATH') where the master serves a JSON snapshot in uWSGI's stats shape; empty for none.",
  validate: (v) => (v === '' || /^(unix:.+|\[[0-9a-fA-F:.]+\]:\d+|[^:\s]*:\d+)$/.test(v) ? undefined : `stats (--stats) must be HOST:PORT or unix:PATH, got ${JSON.stringify(v)}`),
});

export const statsHttp = defineSetting<boolean>({
  name: 'statsHttp',
  section: 'stats',
  type: 'boolean',
  default: false,
  doc: 'Serve the stats over HTTP: the JSON at / and Prometheus text at /metrics.',
});
