// Private fields shared between tsgi modules, declared once. Only index.ts defines the
// public surface; these keys keep internals off it without `#private` cross-module limits.

/** InputStream: releases the spooled body file (called when the request ends). */
export const kRelease = Symbol('tsgi.release');
/** FileWrapper: the wrapped path, fd or FileHandle. */
export const kFile = Symbol('tsgi.file');
/** FileWrapper: the block size for the iterating fallback. */
export const kBlockSize = Symbol('tsgi.blockSize');
/** FileWrapper: the byte range to send ({ offset, length }; length -1 is to the end). */
export const kRange = Symbol('tsgi.range');
/** Server: the native server id. */
export const kNativeId = Symbol('tsgi.nativeId');
/** Server: the frozen, validated options. */
export const kOptions = Symbol('tsgi.options');
/** Server close() option: fd listeners (by inherited descriptor) whose shared socket stops listening for every process holding it, so new clients are refused (a pre-fork server stopping for good). */
export const kRefuseFds = Symbol('tsgi.refuseFds');
