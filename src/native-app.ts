// An application that answers requests inside the native core, with no JavaScript per
// request (the C ABI in native/native_app.h): the embedded Python interpreter is one.
// createServer() takes it in place of a JavaScript application.

/** The listeners' SERVER_NAME and SERVER_PORT values, by listener index, and the server's options the application applies itself. */
export interface NativeListeners {
  serverNames: string[];
  serverPorts: string[];
  /**
   * The server's forwardedAllowIps. When not empty it is the list the application trusts,
   * replacing the one it was loaded with (loadPythonApp's forwardedAllowIps); when empty,
   * the application's own list applies.
   */
  forwardedAllowIps: string[];
}

export abstract class NativeApp {
  /** What the native core's createServer takes: an external holding a tsgi_native_app*. */
  abstract readonly handle: unknown;
  /** A short name for logs ('python'). */
  abstract readonly kind: string;
  /** Called once the server listens, before the first request. */
  abstract configure(listeners: NativeListeners): void;
}

export function isNativeApp(app: unknown): app is NativeApp {
  return app instanceof NativeApp;
}
