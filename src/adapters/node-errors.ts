// The errors node:http raises for misuse of a request or response, with node's codes and
// messages, so framework code that checks `err.code` behaves as on node:http.
export function nodeError(code: string, message: string, Base: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor = Error): Error {
  const e = new Base(message) as Error & { code: string };
  e.code = code;
  return e;
}

export const headersSent = (what: string) => nodeError('ERR_HTTP_HEADERS_SENT', `Cannot ${what} headers after they are sent to the client`);
export const writeAfterEnd = () => nodeError('ERR_STREAM_WRITE_AFTER_END', 'write after end');
export const streamDestroyed = (what: string) => nodeError('ERR_STREAM_DESTROYED', `Cannot call ${what} after a stream was destroyed`);
export const alreadyFinished = (what: string) => nodeError('ERR_STREAM_ALREADY_FINISHED', `Cannot call ${what} after a stream was finished`);
export const nullValues = () => nodeError('ERR_STREAM_NULL_VALUES', 'May not write null values to stream', TypeError);
export const invalidChunk = (chunk: unknown) => nodeError('ERR_INVALID_ARG_TYPE',
  `The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${chunk === null ? 'null' : typeof chunk}`, TypeError);
export const invalidStatusCode = (code: unknown) => nodeError('ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${String(code)}`, RangeError);
export const invalidChar = (what: string) => nodeError('ERR_INVALID_CHAR', `Invalid character in ${what}`, TypeError);

/** What node:http's request emits when its client goes away (code ECONNRESET, message 'aborted'). */
export function connectionReset(): Error {
  return nodeError('ECONNRESET', 'aborted');
}
