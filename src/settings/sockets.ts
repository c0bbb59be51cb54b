// Where the master listens. The master binds every socket before any worker starts;
// workers inherit the listening sockets.
import { defineSetting } from './setting';
import { parseBind } from '../bind';

export const bind = defineSetting<string[]>({
  name: 'bind',
  short: '-b',
  section: 'sockets',
  type: 'list',
  default: ['127.0.0.1:8000'],
  doc: "Socket to listen on (repeatable): 'HOST:PORT', '[::]:PORT', 'unix:PATH' or 'fd://N' (an inherited socket); 'https://HOST:PORT' or 'https+unix:PATH' for TLS (needs --certfile), 'uwsgi://HOST:PORT' or 'uwsgi+unix:PATH' for nginx's uwsgi_pass. With no bind given anywhere, PORT from the environment means 0.0.0.0:$PORT.",
  validate: (v) => {
    if (v.length === 0) return 'bind (--bind) needs at least one address';
    for (const b of v) {
      try {
        parseBind(b);
      } catch (err) {
        return (err as Error).message;
      }
    }
    return undefined;
  },
});

export const backlog = defineSetting<number>({
  name: 'backlog',
  section: 'sockets',
  type: 'int',
  default: 2048,
  min: 1,
  max: 65535,
  doc: 'Length of the queue of connections waiting to be accepted on each socket.',
});

export const unixSocketMode = defineSetting<string>({
  name: 'unixSocketMode',
  section: 'sockets',
  type: 'string',
  default: '',
  doc: "File mode of unix: sockets, in octal (e.g. '660'); empty leaves the umask's.",
  validate: (v) => (v === '' || /^0?[0-7]{3}$/.test(v) ? undefined : `unixSocketMode (--unix-socket-mode) must be an octal mode such as 660, got ${JSON.stringify(v)}`),
});
