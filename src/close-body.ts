// Ending a response body as PEP 3333 asks: its close() if it has one, else return() on an
// iterator that did not finish. The gateway and toFetch both end bodies this way; each
// makes sure it is called once.

/** Where a failure of close() or return() is reported. */
export interface CloseErrorSink {
  logError(what: string, error: unknown): void;
}

function reportRejection(r: unknown, sink: CloseErrorSink, what: string): void {
  if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).catch === 'function') {
    (r as Promise<unknown>).catch((e) => sink.logError(what, e));
  }
}

/**
 * Calls body.close(), or iter.return() when the body has no close() and its iterator did
 * not finish. Never throws: a failure (or a rejected promise either returns) goes to sink.
 */
export function closeBody(body: object, iter: { return?: (...a: never[]) => unknown } | undefined, iterDone: boolean, sink: CloseErrorSink): void {
  try {
    const close = (body as { close?: unknown }).close;
    if (typeof close === 'function') {
      reportRejection(close.call(body), sink, 'close() of the body failed');
    } else if (iter !== undefined && !iterDone && typeof iter.return === 'function') {
      reportRejection(iter.return(), sink, 'return() of the body iterator failed');
    }
  } catch (e) {
    sink.logError('close() of the body failed', e);
  }
}
