// What each listener speaks, for the native core (NativeListenOptions, the last argument of
// listenTcp/listenUnix/listenFd): the protocol of its bind (HTTP, or uwsgi packets for a
// uwsgi:// / uwsgi+unix: bind), TLS for https binds, and whether a PROXY protocol header
// comes first, from whom. Plain HTTP listeners get undefined. A listener that needs a
// feature this build of the native core lacks is refused here, never served as plain HTTP.
import { formatBind, type BindAddress } from './bind';
import { ListenError } from './errors';
import type { NativeBinding, NativeListenOptions, NativeTlsOptions } from './native';

/** The settings that shape a listener (the resolved options carry them when set). */
export interface ListenSettings {
  /** Every connection starts with a PROXY protocol header (v1 or v2). */
  readonly proxyProtocol?: boolean;
  /** Who may send it: addresses and CIDR ranges, '*' for any (the native default: loopback). */
  readonly proxyAllowIps?: readonly string[];
  /** The largest uwsgi packet, 1..65535 (the native default: 4096). */
  readonly uwsgiBufferSize?: number;
  /** TLS of the https binds (PEM bytes, read by resolveOptions). */
  readonly tls?: NativeTlsOptions;
}

/**
 * The listen options for a bind (its `protocol` field, 'http' when absent; `tls` for an
 * https bind) under the resolved options (their ListenSettings fields, when present).
 * undefined for a plain HTTP listener.
 */
export function nativeListenOptions(bind: object, settings: object): NativeListenOptions | undefined {
  const b = bind as { readonly protocol?: unknown; readonly tls?: unknown };
  const s = settings as ListenSettings;
  const uwsgi = b.protocol === 'uwsgi';
  const tls = b.tls === true ? s.tls : undefined;
  if (!uwsgi && !s.proxyProtocol && tls === undefined) return undefined;
  const out: NativeListenOptions = {};
  if (uwsgi) {
    out.protocol = 'uwsgi';
    if (s.uwsgiBufferSize !== undefined) out.uwsgiBufferSize = s.uwsgiBufferSize;
  }
  if (s.proxyProtocol) {
    out.proxyProtocol = true;
    if (s.proxyAllowIps !== undefined) out.proxyAllow = [...s.proxyAllowIps];
  }
  if (tls !== undefined) out.tls = tls;
  return out;
}

/** Throws a ListenError when the native core cannot serve this listener as asked. */
export function checkCapabilities(nb: NativeBinding, b: BindAddress, o: NativeListenOptions | undefined): void {
  const caps = nb.capabilities ?? {};
  const missing = b.tls && !caps.tls ? 'TLS (https binds)'
    : b.protocol === 'uwsgi' && !caps.uwsgi ? 'the uwsgi protocol (uwsgi binds)'
    : o?.proxyProtocol && !caps.proxyProtocol ? 'the PROXY protocol (proxyProtocol)'
    : undefined;
  if (missing !== undefined) {
    throw new ListenError(`cannot listen on ${formatBind(b)}: this build of the native core does not support ${missing}; rebuild it (npm run build:native) from a version that does`, 'ENOTSUP', undefined);
  }
}
