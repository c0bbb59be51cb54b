// Request bodies too large to keep in memory go to an unlinked temporary file: the
// file vanishes with its last descriptor, so nothing is left behind on a crash.
#pragma once

#include <cstddef>
#include <string>

namespace tsgi {

// Creates and unlinks a temp file in dir; returns an fd open for reading and writing
// (close-on-exec), or -errno.
int spool_open(const std::string& dir);

// Writes all of [data, data + len) at the file's current offset; 0 or -errno.
int spool_write(int fd, const char* data, size_t len);

// Rewinds the file so the reader starts at the body's first byte; 0 or -errno.
int spool_rewind(int fd);

}  // namespace tsgi
