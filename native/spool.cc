// Spooling request bodies to unlinked temp files; see spool.h.
#include "spool.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

namespace tsgi {

int spool_open(const std::string& dir) {
  std::string path = (dir.empty() ? std::string("/tmp") : dir) + "/tsgi-body-XXXXXX";
  int fd = mkostemp(&path[0], O_CLOEXEC);
  if (fd < 0) return -errno;
  if (unlink(path.c_str()) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

int spool_write(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return 0;
}

int spool_rewind(int fd) { return lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0; }

}  // namespace tsgi
