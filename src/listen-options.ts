// What each listener speaks, for the native core: the protocol of its bind, TLS for
// https binds, and the PROXY protocol and uwsgi packet options of the server. A listener
// that needs a feature this build of the native core lacks is refused here, never
// served as plain HTTP.
import { formatBind, type BindAddress } from './bind';
import { ListenError } from './errors';
import type { NativeBinding, NativeListenOptions, NativeTlsOptions } from './native';

/** The server-wide listener options (validated by resolveOptions). */
export interface ListenerSettings {
  readonly tls: NativeTlsOptions | undefined;
  readonly proxyProtocol: boolean;
  readonly proxyAllowIps: readonly string[];
  readonly uwsgiBufferSize: number;
}

export function nativeListenOptions(b: BindAddress, s: ListenerSettings): NativeListenOptions {
  const o: NativeListenOptions = { protocol: b.protocol };
  if (b.tls && s.tls !== undefined) o.tls = s.tls;
  if (s.proxyProtocol) {
    o.proxyProtocol = true;
    o.proxyAllow = [...s.proxyAllowIps];
  }
  if (b.protocol === 'uwsgi') o.uwsgiBufferSize = s.uwsgiBufferSize;
  return o;
}

/** Throws a ListenError when the native core cannot serve this listener as asked. */
export function checkCapabilities(nb: NativeBinding, b: BindAddress, o: NativeListenOptions): void {
  const caps = nb.capabilities ?? {};
  const missing = b.tls && !caps.tls ? 'TLS (https binds)'
    : b.protocol === 'uwsgi' && !caps.uwsgi ? 'the uwsgi protocol (uwsgi binds)'
    : o.proxyProtocol && !caps.proxyProtocol ? 'the PROXY protocol (proxyProtocol)'
    : undefined;
  if (missing !== undefined) {
    throw new ListenError(`cannot listen on ${formatBind(b)}: this build of the native core does not support ${missing}; rebuild it (npm run build:native) from a version that does`, 'ENOTSUP', undefined);
  }
}
