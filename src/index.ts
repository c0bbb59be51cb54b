// The public API of tsgi. Only what this module exports is public. Importing it loads no
// native code: the addon is loaded when the first server listens.
export type {
  App, Body, Chunk, Closable, Environ, ErrorStream, FileLike, FileRange, FileWrapperFactory, InputStream,
  ResponseHeaders, ServerAddress, ServerHooks, StartResponse, TlsInfo, Write,
} from './types';
export { Server, createServer, serve, type CloseOptions } from './server';
export type { ServerOptions, TextSink } from './options';
export type { TlsOptions } from './tls-options';
export { Request, RequestHeaders, decodeNative, encodeNative } from './request';
export { Response, type ResponseInit, type ResponseBody, type HeadersInit } from './app-response';
export { Form, UploadedFile, FORM_DEFAULTS, type FormOptions } from './form';
export type { CookieOptions } from './cookies';
export { FileWrapper, fileWrapper } from './file-wrapper';
export { parseBind, formatBind, type BindAddress, type ListenerProtocol } from './bind';
export { ERROR_CODES, TsgiError, ApplicationError, OptionError, ListenError, ValidationError, FormError, type ErrorCode } from './errors';
export { validator, type ValidatorOptions } from './middleware/validator';
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
