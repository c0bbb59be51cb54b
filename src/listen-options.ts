// The native listen options of one bind (NativeListenOptions in src/native.ts): what the
// listener speaks (HTTP, or uwsgi packets for a uwsgi:// / uwsgi+unix: bind) and whether
// a PROXY protocol header comes first, from whom. Plain HTTP listeners get undefined.
import type { NativeListenOptions } from './native';

/** The settings that shape a listener (the resolved options carry them when set). */
export interface ListenSettings {
  /** Every connection starts with a PROXY protocol header (v1 or v2). */
  readonly proxyProtocol?: boolean;
  /** Who may send it: addresses and CIDR ranges, '*' for any (the native default: loopback). */
  readonly proxyAllowIps?: readonly string[];
  /** The largest uwsgi packet, 1..65535 (the native default: 4096). */
  readonly uwsgiBufferSize?: number;
}

/**
 * The listen options for a bind (its `protocol` field, 'http' when absent) under the
 * resolved options (their ListenSettings fields, when present).
 */
export function nativeListenOptions(bind: object, settings: object): NativeListenOptions | undefined {
  const protocol = (bind as { readonly protocol?: unknown }).protocol;
  const s = settings as ListenSettings;
  const uwsgi = protocol === 'uwsgi';
  if (!uwsgi && !s.proxyProtocol) return undefined;
  const out: NativeListenOptions = {};
  if (uwsgi) {
    out.protocol = 'uwsgi';
    if (s.uwsgiBufferSize !== undefined) out.uwsgiBufferSize = s.uwsgiBufferSize;
  }
  if (s.proxyProtocol) {
    out.proxyProtocol = true;
    if (s.proxyAllowIps !== undefined) out.proxyAllow = [...s.proxyAllowIps];
  }
  return out;
}
