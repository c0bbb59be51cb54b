// The healthPath endpoint: answered by the server without calling the application, so a
// load balancer or Kubernetes probe sees the worker itself: 200 while it serves, 503 (and
// the connection closed) once it drains for a stop or reload. Not in the access log.
import fs from 'node:fs';
import { REC_PATH_END, REC_TARGET_END, RESP_CLOSE, type NativeBinding } from './native';

const OK_HEAD = '200 OK\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\n';
const DRAINING_HEAD = '503 Service Unavailable\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\nRetry-After: 1\r\n';
const noop = () => {};

/**
 * A check run before the environ is built: answers the request and returns true when its
 * path is `path` (compared as received, percent-decoded, without the query). undefined
 * when `path` is '' (no health endpoint).
 */
export function healthResponder(path: string, nb: NativeBinding, draining: () => boolean):
    ((conn: number, head: string, bodyFd: number) => boolean) | undefined {
  if (path === '') return undefined;
  const rec = nb.record;
  const length = path.length;
  return (conn, head, bodyFd) => {
    const start = rec[REC_TARGET_END];
    if (rec[REC_PATH_END] - start !== length || !head.startsWith(path, start)) return false;
    if (bodyFd >= 0) fs.close(bodyFd, noop);
    if (draining()) nb.respond(conn, DRAINING_HEAD, 'draining\n', -1, RESP_CLOSE);
    else nb.respond(conn, OK_HEAD, 'OK\n', -1, 0);
    return true;
  };
}
