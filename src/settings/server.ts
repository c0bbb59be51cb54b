// How the HTTP server presents itself to the application: where it listens when embedded
// (host, port; the CLI uses bind from sockets.ts), the mount prefix, the URL scheme and
// the wsgi.multi* flags.
import { defineSetting } from './setting';

export const host = defineSetting<string>({
  name: 'host',
  section: 'server',
  type: 'string',
  default: '127.0.0.1',
  doc: "Address the embedded server listens on when bind is not given; '' or '::' for every address.",
});

export const port = defineSetting<number>({
  name: 'port',
  section: 'server',
  type: 'int',
  default: 8000,
  min: 0,
  max: 65535,
  doc: 'TCP port the embedded server listens on when bind is not given; 0 picks a free port.',
});

export const scriptName = defineSetting<string>({
  name: 'scriptName',
  section: 'server',
  type: 'string',
  default: '',
  doc: "Mount prefix of the application (SCRIPT_NAME), e.g. '/app'; PATH_INFO is the path after it.",
  validate: (v) =>
    v === '' || (/^\/[^?#]*[^/]$/.test(v) && !/[\0-\x1f]/.test(v))
      ? undefined
      : `scriptName (--script-name) must be '' or start with '/' and not end with '/', got ${JSON.stringify(v)}`,
});

export const urlScheme = defineSetting<string>({
  name: 'urlScheme',
  section: 'server',
  type: 'string',
  default: 'http',
  choices: ['http', 'https'],
  doc: "wsgi.url_scheme: 'https' when a TLS-terminating proxy is in front.",
});

export const multiprocess = defineSetting<boolean>({
  name: 'multiprocess',
  section: 'server',
  type: 'boolean',
  default: false,
  doc: 'wsgi.multiprocess: the application may run in several processes at once (set by the process manager).',
});

export const multithread = defineSetting<boolean>({
  name: 'multithread',
  section: 'server',
  type: 'boolean',
  default: false,
  doc: 'wsgi.multithread: the application may run in several threads at once (set by the process manager in threads mode).',
});

export const serverSettings = [host, port, scriptName, urlScheme, multiprocess, multithread] as const;
