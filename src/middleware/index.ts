// The middleware kit: functions from app to app (and mount, which takes apps).
export { compose } from './compose';
export { mount, type MountOptions } from './mount';
export { staticFiles, type StaticFilesOptions } from './static-files';
export { compress, isCompressible, type CompressOptions } from './compress';
export { proxyFix, PROXY_FIX_ORIG, type ProxyFixOptions, type ProxyFixOriginal } from './proxy-fix';
export type { Middleware } from './headers';
export { MIME_TYPES } from './mime';
