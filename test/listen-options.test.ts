// The native listen options a bind gets: undefined for plain HTTP, the uwsgi protocol and
// its packet limit for a uwsgi bind, the PROXY protocol and its allow list when set.
import { describe, expect, it } from 'vitest';
import { nativeListenOptions } from '../src/listen-options';

describe('nativeListenOptions', () => {
  it('a plain HTTP bind without the PROXY protocol needs no options', () => {
    expect(nativeListenOptions({}, {})).toBeUndefined();
    expect(nativeListenOptions({ protocol: 'http' }, { uwsgiBufferSize: 8192, proxyAllowIps: ['10.0.0.0/8'] })).toBeUndefined();
  });

  it('a uwsgi bind: the protocol and the packet limit', () => {
    expect(nativeListenOptions({ protocol: 'uwsgi' }, {})).toEqual({ protocol: 'uwsgi' });
    expect(nativeListenOptions({ protocol: 'uwsgi' }, { uwsgiBufferSize: 32768 })).toEqual({ protocol: 'uwsgi', uwsgiBufferSize: 32768 });
  });

  it('the PROXY protocol on any bind, with the allow list when one is set', () => {
    expect(nativeListenOptions({}, { proxyProtocol: true })).toEqual({ proxyProtocol: true });
    expect(nativeListenOptions({ protocol: 'uwsgi' }, { proxyProtocol: true, proxyAllowIps: ['10.0.0.0/8', '::1'] }))
      .toEqual({ protocol: 'uwsgi', proxyProtocol: true, proxyAllow: ['10.0.0.0/8', '::1'] });
  });
});
