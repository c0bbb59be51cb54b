// Switching the master (and so every worker it starts) to an unprivileged user and
// group once the sockets are bound: binding to port 80 needs root, serving does not.

export function dropPrivileges(user: string, group: string): void {
  if (!user && !group) return;
  if (typeof process.setuid !== 'function' || typeof process.getuid !== 'function') {
    throw new Error('--user/--group are not supported on this platform');
  }
  const asId = (v: string) => (/^\d+$/.test(v) ? Number(v) : v);
  // The group first: once the user has changed, the group can no longer be.
  if (group) process.setgid!(asId(group));
  if (user) {
    const gid = group ? asId(group) : process.getgid!();
    const initgroups = (process as { initgroups?: (user: string, extra: string | number) => void }).initgroups;
    if (process.getuid() === 0 && typeof initgroups === 'function' && typeof asId(user) === 'string') {
      initgroups(user, gid);
    } else if (process.getuid() === 0 && typeof process.setgroups === 'function') {
      process.setgroups([gid]);
    }
    process.setuid(asId(user));
  }
}
