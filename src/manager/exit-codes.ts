// Exit codes a worker reserves to tell the master it cannot start. The master does not
// respawn a worker that exits with one of these while the server is booting: a broken
// application stops the server with its error instead of restarting forever.
export const WORKER_BOOT_ERROR = 3;
export const APP_LOAD_ERROR = 4;

/** The master's own exit codes. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
