// Behind a proxy or load balancer: the uwsgi protocol's packet limit, the PROXY protocol
// and who may send it, whose forwarded headers are believed, and the health endpoint.
import { defineSetting } from './setting';
import { allowListProblem } from '../middleware/ip';

export const uwsgiBufferSize = defineSetting<number>({
  name: 'uwsgiBufferSize',
  section: 'proxy',
  type: 'bytes',
  default: 4096,
  min: 512,
  max: 65535,
  doc: 'Largest uwsgi packet (the request variables nginx sends with uwsgi_pass) on uwsgi:// binds; larger: the connection is closed.',
});

export const proxyProtocol = defineSetting<boolean>({
  name: 'proxyProtocol',
  section: 'proxy',
  type: 'boolean',
  default: false,
  doc: 'Every connection starts with a PROXY protocol header (v1 or v2, e.g. nginx stream `proxy_protocol on`, HAProxy `send-proxy`); its client address becomes REMOTE_ADDR.',
});

export const proxyAllowIps = defineSetting<string[]>({
  name: 'proxyAllowIps',
  section: 'proxy',
  type: 'list',
  default: ['127.0.0.1', '::1'],
  doc: "Addresses and CIDR ranges allowed to send the PROXY protocol header; '*' for any. A connection from elsewhere is closed.",
  validate: (v) => allowListProblem('proxyAllowIps (--proxy-allow-ips)', v, false),
});

export const forwardedAllowIps = defineSetting<string[]>({
  name: 'forwardedAllowIps',
  section: 'proxy',
  type: 'list',
  default: ['127.0.0.1', '::1', 'unix'],
  doc: "Proxies whose X-Forwarded-For/-Proto/-Host and Forwarded headers set REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST: addresses, CIDR ranges, 'unix' (Unix-socket peers) or '*' (anyone). From others the headers are left as sent.",
  validate: (v) => allowListProblem('forwardedAllowIps (--forwarded-allow-ips)', v, true),
});

export const healthPath = defineSetting<string>({
  name: 'healthPath',
  section: 'proxy',
  type: 'string',
  default: '',
  doc: "A path answered by tsgi itself without calling the application (e.g. '/healthz'): 200 while serving, 503 once the worker drains for a stop or reload.",
  validate: (v) => (v === '' || (/^\/[\x21-\x7e]*$/.test(v) && !/[?#]/.test(v)) ? undefined
    : `healthPath (--health-path) must be '' or a path such as /healthz (no query), got ${JSON.stringify(v)}`),
});

export const proxySettings = [uwsgiBufferSize, proxyProtocol, proxyAllowIps, forwardedAllowIps, healthPath] as const;
