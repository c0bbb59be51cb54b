// The master process itself: its pid file and the identity it runs as.
import { defineSetting } from './setting';

export const pidfile = defineSetting<string>({
  name: 'pidfile',
  section: 'process',
  type: 'string',
  default: '',
  doc: "File the master writes its pid to (removed on exit); empty for none.",
});

export const user = defineSetting<string>({
  name: 'user',
  section: 'process',
  type: 'string',
  default: '',
  doc: 'User name or uid to switch to after binding the sockets (needs root).',
});

export const group = defineSetting<string>({
  name: 'group',
  section: 'process',
  type: 'string',
  default: '',
  doc: 'Group name or gid to switch to after binding the sockets (needs root).',
});

export const config = defineSetting<string>({
  name: 'config',
  short: '-c',
  section: 'process',
  type: 'string',
  default: '',
  doc: 'Config file to read (default: the first of tsgi.config.js, .mjs, .cjs, .ts, .mts, .cts, .json in the current directory).',
});
