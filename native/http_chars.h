// Byte classes of HTTP/1.1 syntax (RFC 9110 §5.6, RFC 9112) shared by the request parser,
// the chunked decoder and the uwsgi parser, so all read tokens, whitespace, hex digits and
// case-insensitive keywords the same way.
#pragma once

#include <cstddef>

namespace tsgi {

// tchar: the bytes of a token (method, field name, transfer coding, chunk-ext name).
constexpr bool is_tchar_byte(unsigned c) {
  if (c >= '0' && c <= '9') return true;
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// OWS / BWS: optional whitespace.
constexpr bool is_ows(unsigned c) { return c == ' ' || c == '\t'; }

// field-value bytes: HTAB, SP, VCHAR, obs-text.
constexpr bool is_field_value_byte(unsigned c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

// The value of a hexadecimal digit, or -1.
constexpr int hex_value(unsigned c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  const unsigned l = c | 0x20;
  if (l >= 'a' && l <= 'f') return static_cast<int>(l - 'a' + 10);
  return -1;
}

// Case-insensitive compare of [p, p + n) with a lower-case literal of letters, digits and '-'.
template <size_t N>
constexpr bool ieq(const char* p, size_t n, const char (&lower)[N]) {
  if (n != N - 1) return false;
  for (size_t i = 0; i < n; ++i) {
    const char t = lower[i];
    const char c = p[i];
    if (t >= 'a' && t <= 'z') {
      if (static_cast<char>(c | 0x20) != t) return false;
    } else if (c != t) {
      return false;
    }
  }
  return true;
}

}  // namespace tsgi
