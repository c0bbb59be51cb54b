// The incremental decoder of the chunked transfer coding (RFC 9112 §7.1), request side.
//
// A byte-at-a-time state machine for the framing lines (chunk-size, chunk-ext, the CRLF
// after the data, the trailer section) and a bulk path for the data: a Data result is a
// span into the caller's input, never a copy. Any split of the input gives the same
// result as the whole, which the tests check for every 2-way split and byte by byte.
//
// Limits and their statuses:
//   - more than 16 hex digits in a chunk-size (would overflow 64 bits): 400;
//   - chunk extensions over max_extension_bytes in total per message: 413 — the client sent
//     more than the server accepts to carry along with the content, as node:http answers;
//   - a trailer section over max_trailer_bytes: 431, as for a header section too large;
//   - a trailer field that RFC 9110 §6.5.1 keeps out of trailers (trailer_field_allowed):
//     400, decided at its colon;
//   - any other malformed framing: 400.
//
// Accepted trailer fields go to the TrailerSink, byte by byte (a trailer section is small
// and rare; the sink decides where the bytes live).
#include "parser.h"

#include <cstring>

#include "http_chars.h"

namespace tsgi {
namespace {

enum State : uint8_t {
  kSizeStart = 0,   // the first hex digit of a chunk-size
  kSize,            // more hex digits, or what ends the size
  kExtSemiBws,      // BWS that must be followed by ';'
  kExtNameStart,    // after ';' (BWS allowed), before a chunk-ext-name
  kExtName,         // inside a chunk-ext-name
  kExtAfterName,    // BWS after a name: '=' or ';' follows
  kExtValueStart,   // after '=' (BWS allowed): a token or a quoted-string
  kExtValueToken,   // inside a token value
  kExtQuoted,       // inside a quoted-string value
  kExtQuotedEscape, // after '\' in a quoted-string
  kExtAfterQuoted,  // after the closing '"': CR, ';' or BWS
  kSizeLf,          // after the CR that ends the chunk-size line
  kData,            // remaining_ bytes of chunk data
  kDataCr,          // the CR after chunk data
  kDataLf,          // the LF after chunk data
  kTrailerLineStart,// a trailer field line, or the CR of the final empty line
  kTrailerName,     // inside a trailer field name
  kTrailerValueOws, // whitespace after the colon, before the value
  kTrailerValue,    // inside a trailer field value
  kTrailerLf,       // the LF ending a trailer field line
  kEndLf,           // the LF of the final empty line
  kDone,
  kError,
};

constexpr size_t kMaxSizeDigits = 16;  // 16 hex digits fill 64 bits

// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
inline bool is_qdtext(unsigned char c) { return is_field_value_byte(c) && c != '"' && c != '\\'; }

// name (lower case, exactly n bytes) equals the literal.
template <size_t N>
inline bool is(const char* name, size_t n, const char (&lit)[N]) {
  return n == N - 1 && std::memcmp(name, lit, n) == 0;
}

// The refused names, matched on the lower-cased name; `kept` bytes of it are at hand
// (all of it when len <= kept).
bool allowed_lower(const char* lower, size_t len, size_t kept) {
  if (len >= 3 && std::memcmp(lower, "if-", 3) == 0) return false;
  if (len >= 6 && std::memcmp(lower, "proxy-", 6) == 0) return false;
  if (len > kept) return true;  // longer than every name below
  switch (lower[0]) {
    case 'a': return !is(lower, len, "authorization");
    case 'c':
      return !(is(lower, len, "cache-control") || is(lower, len, "connection") ||
               is(lower, len, "content-encoding") || is(lower, len, "content-length") ||
               is(lower, len, "content-range") || is(lower, len, "content-type") ||
               is(lower, len, "cookie"));
    case 'e': return !is(lower, len, "expect");
    case 'h': return !is(lower, len, "host");
    case 'k': return !is(lower, len, "keep-alive");
    case 'm': return !is(lower, len, "max-forwards");
    case 'p': return !is(lower, len, "pragma");
    case 'r': return !is(lower, len, "range");
    case 's': return !is(lower, len, "set-cookie");
    case 't': return !(is(lower, len, "te") || is(lower, len, "trailer") || is(lower, len, "transfer-encoding"));
    case 'u': return !is(lower, len, "upgrade");
    default: return true;
  }
}

inline char ascii_lower(unsigned char c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

}  // namespace

bool trailer_field_allowed(const char* name, size_t len) {
  char lower[24];
  const size_t kept = len < sizeof lower ? len : sizeof lower;
  for (size_t i = 0; i < kept; ++i) lower[i] = ascii_lower(static_cast<unsigned char>(name[i]));
  return len != 0 && allowed_lower(lower, len, kept);
}

ChunkStatus ChunkedDecoder::feed(const char* data, size_t len, size_t* consumed, Span* out) {
  *out = Span{};
  *consumed = 0;
  if (state_ == kDone) return ChunkStatus::Done;
  if (state_ == kError) return ChunkStatus::Error;

  auto fail = [&](size_t at, uint16_t status, const char* reason) {
    state_ = kError;
    error_status_ = status;
    error_reason_ = reason;
    *consumed = at;
    return ChunkStatus::Error;
  };

  size_t i = 0;
  while (i < len) {
    if (state_ == kData) {
      const size_t avail = len - i;
      const size_t take = remaining_ < avail ? static_cast<size_t>(remaining_) : avail;
      remaining_ -= take;
      if (remaining_ == 0) state_ = kDataCr;
      *out = Span{data + i, take};
      *consumed = i + take;
      return ChunkStatus::Data;
    }

    const unsigned char c = static_cast<unsigned char>(data[i]);

    // Chunk extensions count against one budget per message, whatever state they are in
    // (the CR that ends the line is not part of them).
    if (state_ >= kExtSemiBws && state_ <= kExtAfterQuoted) {
      if (c != '\r' && ++extension_bytes_ > limits_.max_extension_bytes) {
        return fail(i, 413, "chunk extensions too large");
      }
    } else if (state_ >= kTrailerLineStart && state_ <= kEndLf) {
      if (++trailer_bytes_ > limits_.max_trailer_bytes) {
        return fail(i, 431, "trailer section too large");
      }
    }

    switch (state_) {
      case kSizeStart:
      case kSize: {
        const int h = hex_value(c);
        if (h >= 0) {
          if (++size_digits_ > kMaxSizeDigits) return fail(i, 400, "chunk size too large");
          remaining_ = (remaining_ << 4) | static_cast<uint64_t>(h);
          state_ = kSize;
          break;
        }
        if (state_ == kSizeStart) return fail(i, 400, "invalid chunk size");
        if (c == '\r') {
          state_ = kSizeLf;
        } else if (c == ';') {
          ++extension_bytes_;
          if (extension_bytes_ > limits_.max_extension_bytes) {
            return fail(i, 413, "chunk extensions too large");
          }
          state_ = kExtNameStart;
        } else if (is_ows(c)) {
          ++extension_bytes_;
          if (extension_bytes_ > limits_.max_extension_bytes) {
            return fail(i, 413, "chunk extensions too large");
          }
          state_ = kExtSemiBws;
        } else {
          return fail(i, 400, "invalid chunk size");
        }
        break;
      }

      case kExtSemiBws:
        if (c == ';') state_ = kExtNameStart;
        else if (!is_ows(c)) return fail(i, 400, "malformed chunk extension");
        break;
      case kExtNameStart:
        if (is_tchar_byte(c)) state_ = kExtName;
        else if (!is_ows(c)) return fail(i, 400, "malformed chunk extension");
        break;
      case kExtName:
        if (c == '\r') state_ = kSizeLf;
        else if (c == ';') state_ = kExtNameStart;
        else if (c == '=') state_ = kExtValueStart;
        else if (is_ows(c)) state_ = kExtAfterName;
        else if (!is_tchar_byte(c)) return fail(i, 400, "malformed chunk extension");
        break;
      case kExtAfterName:
        if (c == ';') state_ = kExtNameStart;
        else if (c == '=') state_ = kExtValueStart;
        else if (!is_ows(c)) return fail(i, 400, "malformed chunk extension");
        break;
      case kExtValueStart:
        if (c == '"') state_ = kExtQuoted;
        else if (is_tchar_byte(c)) state_ = kExtValueToken;
        else if (!is_ows(c)) return fail(i, 400, "malformed chunk extension");
        break;
      case kExtValueToken:
        if (c == '\r') state_ = kSizeLf;
        else if (c == ';') state_ = kExtNameStart;
        else if (is_ows(c)) state_ = kExtSemiBws;
        else if (!is_tchar_byte(c)) return fail(i, 400, "malformed chunk extension");
        break;
      case kExtQuoted:
        if (c == '"') state_ = kExtAfterQuoted;
        else if (c == '\\') state_ = kExtQuotedEscape;
        else if (!is_qdtext(c)) return fail(i, 400, "malformed chunk extension");
        break;
      case kExtQuotedEscape:
        if (!is_field_value_byte(c)) return fail(i, 400, "malformed chunk extension");
        state_ = kExtQuoted;
        break;
      case kExtAfterQuoted:
        if (c == '\r') state_ = kSizeLf;
        else if (c == ';') state_ = kExtNameStart;
        else if (is_ows(c)) state_ = kExtSemiBws;
        else return fail(i, 400, "malformed chunk extension");
        break;

      case kSizeLf:
        if (c != '\n') return fail(i, 400, "bare CR in chunk size line");
        size_digits_ = 0;
        state_ = remaining_ == 0 ? kTrailerLineStart : kData;
        break;

      case kDataCr:
        if (c != '\r') return fail(i, 400, "missing CRLF after chunk data");
        state_ = kDataLf;
        break;
      case kDataLf:
        if (c != '\n') return fail(i, 400, "missing CRLF after chunk data");
        state_ = kSizeStart;
        break;

      case kTrailerLineStart:
        if (c == '\r') {
          state_ = kEndLf;
        } else if (is_tchar_byte(c)) {
          name_[0] = ascii_lower(c);
          name_len_ = 1;
          if (trailers_) trailers_->field_bytes(data + i, 1);
          state_ = kTrailerName;
        } else if (is_ows(c)) {
          return fail(i, 400, "obs-fold in trailer section");
        } else {
          return fail(i, 400, "invalid trailer field");
        }
        break;
      case kTrailerName:
        if (c == ':') {
          const size_t kept = name_len_ < kNameKept ? name_len_ : kNameKept;
          if (!allowed_lower(name_, name_len_, kept)) return fail(i, 400, "field not allowed in a trailer");
          if (trailers_) trailers_->field_bytes(data + i, 1);
          value_ows_ = 0;
          state_ = kTrailerValueOws;
        } else if (is_tchar_byte(c)) {
          if (name_len_ < kNameKept) name_[name_len_] = ascii_lower(c);
          ++name_len_;
          if (trailers_) trailers_->field_bytes(data + i, 1);
        } else {
          return fail(i, 400, "invalid trailer field name");
        }
        break;
      case kTrailerValueOws:
      case kTrailerValue:
        if (c == '\r') {
          if (trailers_) trailers_->field_end(value_ows_);
          state_ = kTrailerLf;
        } else if (!is_field_value_byte(c)) {
          return fail(i, 400, "invalid character in trailer field");
        } else if (state_ == kTrailerValueOws && is_ows(c)) {
          // leading whitespace is not part of the value
        } else {
          value_ows_ = is_ows(c) ? value_ows_ + 1 : 0;
          if (trailers_) trailers_->field_bytes(data + i, 1);
          state_ = kTrailerValue;
        }
        break;
      case kTrailerLf:
        if (c != '\n') return fail(i, 400, "bare CR in trailer section");
        state_ = kTrailerLineStart;
        break;
      case kEndLf:
        if (c != '\n') return fail(i, 400, "bare CR in trailer section");
        state_ = kDone;
        *consumed = i + 1;
        return ChunkStatus::Done;

      default:
        return fail(i, 400, "chunked decoder in an invalid state");
    }
    ++i;
  }
  *consumed = len;
  return ChunkStatus::NeedMore;
}

}  // namespace tsgi
