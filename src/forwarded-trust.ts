// The server's forwardedAllowIps: X-Forwarded-For/-Proto/-Host/-Port and RFC 7239
// Forwarded set REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST (SERVER_NAME/SERVER_PORT with
// it) when the connection's peer is a trusted proxy; from anyone else they are left as
// sent. The rule is proxyFix()'s (the same code). Requests without any of these headers
// cost four property reads.
import { applyForwarded } from './middleware/proxy-fix';
import { TrustedPeers } from './middleware/ip';
import type { Environ } from './types';

const SOURCES = Object.freeze({ forwarded: true, xForwarded: true, prefix: false, original: false });

/** A function applying trusted forwarded headers to an environ, or undefined when no one is trusted. */
export function forwardedTrust(rules: readonly string[]): ((environ: Environ) => void) | undefined {
  if (rules.length === 0) return undefined;
  const peers = new TrustedPeers(rules);
  return (environ: Environ) => {
    if (environ.HTTP_X_FORWARDED_FOR === undefined && environ.HTTP_FORWARDED === undefined &&
        environ.HTTP_X_FORWARDED_PROTO === undefined && environ.HTTP_X_FORWARDED_HOST === undefined &&
        environ.HTTP_X_FORWARDED_PORT === undefined) return;
    if (!peers.trusts(environ.REMOTE_ADDR)) return;
    try {
      applyForwarded(environ, peers, SOURCES);
    } catch {
      // Malformed input never stops a request; the environ stays as the server built it.
    }
  };
}
