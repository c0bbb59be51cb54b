// The known request header table and the environ key of any header name.
#include "known_headers.h"

#include <cstring>

namespace tsgi {

const char* const kKnownHeaderKeys[kKnownHeaderCount] = {
    "",
    "HTTP_HOST",
    "CONTENT_LENGTH",
    "CONTENT_TYPE",
    "HTTP_CONNECTION",
    "HTTP_TRANSFER_ENCODING",
    "HTTP_EXPECT",
    "HTTP_ACCEPT",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_ACCEPT_LANGUAGE",
    "HTTP_USER_AGENT",
    "HTTP_COOKIE",
    "HTTP_REFERER",
    "HTTP_AUTHORIZATION",
    "HTTP_CACHE_CONTROL",
    "HTTP_ORIGIN",
    "HTTP_UPGRADE",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_PRAGMA",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_REAL_IP",
    "HTTP_X_REQUEST_ID",
    "HTTP_FORWARDED",
    "HTTP_VIA",
    "HTTP_RANGE",
    "HTTP_DNT",
    "HTTP_SEC_FETCH_SITE",
    "HTTP_SEC_FETCH_MODE",
    "HTTP_SEC_FETCH_DEST",
    "HTTP_SEC_FETCH_USER",
    "HTTP_SEC_CH_UA",
    "HTTP_SEC_CH_UA_MOBILE",
    "HTTP_SEC_CH_UA_PLATFORM",
    "HTTP_UPGRADE_INSECURE_REQUESTS",
    "HTTP_KEEP_ALIVE",
    "HTTP_TE",
};

const char* const kKnownHeaderNames[kKnownHeaderCount] = {
    "",
    "Host",
    "Content-Length",
    "Content-Type",
    "Connection",
    "Transfer-Encoding",
    "Expect",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "User-Agent",
    "Cookie",
    "Referer",
    "Authorization",
    "Cache-Control",
    "Origin",
    "Upgrade",
    "If-None-Match",
    "If-Modified-Since",
    "If-Match",
    "If-Unmodified-Since",
    "If-Range",
    "Pragma",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Real-IP",
    "X-Request-ID",
    "Forwarded",
    "Via",
    "Range",
    "DNT",
    "Sec-Fetch-Site",
    "Sec-Fetch-Mode",
    "Sec-Fetch-Dest",
    "Sec-Fetch-User",
    "Sec-CH-UA",
    "Sec-CH-UA-Mobile",
    "Sec-CH-UA-Platform",
    "Upgrade-Insecure-Requests",
    "Keep-Alive",
    "TE",
};

namespace {

// Compares W bytes of a name with W bytes of a lower-case literal made of letters, digits
// and '-'. Letters compare case-insensitively, every other byte exactly: the fold mask
// has 0x20 only where the literal has a letter (bit 6 set), so '\r' never matches '-'
// as a plain `| 0x20` fold would allow.
template <typename Word>
inline bool eq_word(const char* name, const char* lower) {
  Word x;
  Word y;
  std::memcpy(&x, name, sizeof x);
  std::memcpy(&y, lower, sizeof y);
  const Word fold = static_cast<Word>((y >> 1) & static_cast<Word>(0x2020202020202020ull));
  return static_cast<Word>(x | fold) == y;
}

// Compares name (exactly N-1 bytes long) with a lower-case literal, a word at a time
// (the last word may overlap the one before it).
template <size_t N>
inline bool eq(const char* name, const char (&lower)[N]) {
  constexpr size_t n = N - 1;
  static_assert(n >= 1, "empty literal");
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (!eq_word<uint64_t>(name + i, lower + i)) return false;
    }
    return n % 8 == 0 || eq_word<uint64_t>(name + n - 8, lower + n - 8);
  }
  if (n >= 4) return eq_word<uint32_t>(name, lower) && eq_word<uint32_t>(name + n - 4, lower + n - 4);
  if (n >= 2) return eq_word<uint16_t>(name, lower) && eq_word<uint16_t>(name + n - 2, lower + n - 2);
  return eq_word<uint8_t>(name, lower);
}

inline char lower(char c) { return static_cast<char>(c | 0x20); }

}  // namespace

uint16_t known_header_id(const char* n, size_t len) {
  // Dispatch on length, then on the first letter, then one folded compare.
  if (len == 0) return kHeaderOther;
  const char first = lower(n[0]);
  switch (len) {
    case 2:
      if (eq(n, "te")) return kHeaderTe;
      break;
    case 3:
      if (first == 'd' && eq(n, "dnt")) return kHeaderDnt;
      if (first == 'v' && eq(n, "via")) return kHeaderVia;
      break;
    case 4:
      if (eq(n, "host")) return kHeaderHost;
      break;
    case 5:
      if (eq(n, "range")) return kHeaderRange;
      break;
    case 6:
      switch (first) {
        case 'a': if (eq(n, "accept")) return kHeaderAccept; break;
        case 'c': if (eq(n, "cookie")) return kHeaderCookie; break;
        case 'e': if (eq(n, "expect")) return kHeaderExpect; break;
        case 'o': if (eq(n, "origin")) return kHeaderOrigin; break;
        case 'p': if (eq(n, "pragma")) return kHeaderPragma; break;
      }
      break;
    case 7:
      if (first == 'r' && eq(n, "referer")) return kHeaderReferer;
      if (first == 'u' && eq(n, "upgrade")) return kHeaderUpgrade;
      break;
    case 8:
      if (eq(n, "if-match")) return kHeaderIfMatch;
      if (eq(n, "if-range")) return kHeaderIfRange;
      break;
    case 9:
      if (first == 'f' && eq(n, "forwarded")) return kHeaderForwarded;
      if (first == 's' && eq(n, "sec-ch-ua")) return kHeaderSecChUa;
      if (first == 'x' && eq(n, "x-real-ip")) return kHeaderXRealIp;
      break;
    case 10:
      switch (first) {
        case 'c': if (eq(n, "connection")) return kHeaderConnection; break;
        case 'u': if (eq(n, "user-agent")) return kHeaderUserAgent; break;
        case 'k': if (eq(n, "keep-alive")) return kHeaderKeepAlive; break;
      }
      break;
    case 12:
      if (first == 'c' && eq(n, "content-type")) return kHeaderContentType;
      if (first == 'x' && eq(n, "x-request-id")) return kHeaderXRequestId;
      break;
    case 13:
      switch (first) {
        case 'a': if (eq(n, "authorization")) return kHeaderAuthorization; break;
        case 'c': if (eq(n, "cache-control")) return kHeaderCacheControl; break;
        case 'i': if (eq(n, "if-none-match")) return kHeaderIfNoneMatch; break;
      }
      break;
    case 14:
      if (first == 'c') {
        if (eq(n, "content-length")) return kHeaderContentLength;
      } else if (first == 's' && eq(n, "sec-fetch-")) {
        const char* rest = n + 10;
        switch (lower(rest[0])) {
          case 's': if (eq(rest, "site")) return kHeaderSecFetchSite; break;
          case 'm': if (eq(rest, "mode")) return kHeaderSecFetchMode; break;
          case 'd': if (eq(rest, "dest")) return kHeaderSecFetchDest; break;
          case 'u': if (eq(rest, "user")) return kHeaderSecFetchUser; break;
        }
      }
      break;
    case 15:
      if (first == 'a' && eq(n, "accept-")) {
        if (eq(n + 7, "encoding")) return kHeaderAcceptEncoding;
        if (eq(n + 7, "language")) return kHeaderAcceptLanguage;
      } else if (first == 'x' && eq(n, "x-forwarded-for")) {
        return kHeaderXForwardedFor;
      }
      break;
    case 16:
      if (first == 'x' && eq(n, "x-forwarded-host")) return kHeaderXForwardedHost;
      if (first == 's' && eq(n, "sec-ch-ua-mobile")) return kHeaderSecChUaMobile;
      break;
    case 17:
      switch (first) {
        case 't': if (eq(n, "transfer-encoding")) return kHeaderTransferEncoding; break;
        case 'i': if (eq(n, "if-modified-since")) return kHeaderIfModifiedSince; break;
        case 'x': if (eq(n, "x-forwarded-proto")) return kHeaderXForwardedProto; break;
      }
      break;
    case 18:
      if (eq(n, "sec-ch-ua-platform")) return kHeaderSecChUaPlatform;
      break;
    case 19:
      if (eq(n, "if-unmodified-since")) return kHeaderIfUnmodifiedSince;
      break;
    case 25:
      if (eq(n, "upgrade-insecure-requests")) return kHeaderUpgradeInsecureRequests;
      break;
  }
  return kHeaderOther;
}

size_t environ_key_for(const char* name, size_t len, char* out) {
  std::memcpy(out, "HTTP_", 5);
  char* o = out + 5;
  for (size_t i = 0; i < len; ++i) {
    char c = name[i];
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - ('a' - 'A'));
    } else if (c == '-') {
      c = '_';
    }
    o[i] = c;
  }
  return len + 5;
}

bool header_name_has_underscore(const char* name, size_t len) {
  return len != 0 && std::memchr(name, '_', len) != nullptr;
}

}  // namespace tsgi
