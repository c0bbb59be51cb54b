// The public API of tsgi. Only what this module exports is public. Importing it loads no
// native code: the addon is loaded when the first server listens.
export type {
  App, Body, Chunk, Closable, Environ, ErrorStream, FileLike, FileRange, FileWrapperFactory, InputStream,
  ResponseHeaders, ServerAddress, ServerHooks, StartResponse, Write,
} from './types';
export { Server, createServer, serve, type CloseOptions } from './server';
export type { ServerOptions, TextSink } from './options';
export { Request, decodeNative, encodeNative } from './request';
export { FileWrapper, fileWrapper } from './file-wrapper';
export { parseBind, formatBind, type BindAddress } from './bind';
export { ERROR_CODES, TsgiError, ApplicationError, OptionError, ListenError, type ErrorCode } from './errors';
export { Logger, type LogLevel, type LogFormat, type LoggerOptions, type LogFields } from './log';
export { fromNodeHandler, type NodeHandler } from './adapters/from-node-handler';
export { toNodeHandler, type ToNodeHandlerOptions, type NodeMiddleware } from './adapters/to-node-handler';
export { fromFetch, type FromFetchOptions } from './adapters/from-fetch';
export { toFetch, type ToFetchOptions } from './adapters/to-fetch';
export type { FetchHandler, FetchHandlerObject, ExecutionContext } from './adapters/fetch-types';
export {
  compose, mount, staticFiles, compress, proxyFix, isCompressible, MIME_TYPES, PROXY_FIX_ORIG,
  type Middleware, type MountOptions, type StaticFilesOptions, type CompressOptions, type ProxyFixOptions, type ProxyFixOriginal,
} from './middleware/index';
