// The known request header table: the names the parser recognizes by id, and the PEP 3333
// environ key of each, so the binding creates those keys once and reuses them.
// Pure C++ (no Node), no allocation; lookups are case-insensitive.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tsgi {

// Ids of the known headers. 0 is "any other name". The ids index kKnownHeaderKeys and
// kKnownHeaderNames; the parser itself uses Host, Content-Length, Transfer-Encoding,
// Connection and Expect.
enum KnownHeader : uint16_t {
  kHeaderOther = 0,
  kHeaderHost,
  kHeaderContentLength,
  kHeaderContentType,
  kHeaderConnection,
  kHeaderTransferEncoding,
  kHeaderExpect,
  kHeaderAccept,
  kHeaderAcceptEncoding,
  kHeaderAcceptLanguage,
  kHeaderUserAgent,
  kHeaderCookie,
  kHeaderReferer,
  kHeaderAuthorization,
  kHeaderCacheControl,
  kHeaderOrigin,
  kHeaderUpgrade,
  kHeaderIfNoneMatch,
  kHeaderIfModifiedSince,
  kHeaderIfMatch,
  kHeaderIfUnmodifiedSince,
  kHeaderIfRange,
  kHeaderPragma,
  kHeaderXForwardedFor,
  kHeaderXForwardedProto,
  kHeaderXForwardedHost,
  kHeaderXRealIp,
  kHeaderXRequestId,
  kHeaderForwarded,
  kHeaderVia,
  kHeaderRange,
  kHeaderDnt,
  kHeaderSecFetchSite,
  kHeaderSecFetchMode,
  kHeaderSecFetchDest,
  kHeaderSecFetchUser,
  kHeaderSecChUa,
  kHeaderSecChUaMobile,
  kHeaderSecChUaPlatform,
  kHeaderUpgradeInsecureRequests,
  kHeaderKeepAlive,
  kHeaderTe,
  kKnownHeaderEnd  // one past the last id
};

// Number of entries in kKnownHeaderKeys / kKnownHeaderNames, index 0 included.
constexpr size_t kKnownHeaderCount = kKnownHeaderEnd;

// Environ keys by id; index 0 is "". CONTENT_LENGTH and CONTENT_TYPE carry no HTTP_
// prefix (CGI, PEP 3333); every other key is "HTTP_" + the upper-cased name, '-' → '_'.
extern const char* const kKnownHeaderKeys[kKnownHeaderCount];

// Canonical spelling of each known header name by id; index 0 is "".
extern const char* const kKnownHeaderNames[kKnownHeaderCount];

// The id of a header name (ASCII case-insensitive), or kHeaderOther.
uint16_t known_header_id(const char* name, size_t len);

// Longest environ key environ_key_for() writes for a name of len bytes.
constexpr size_t environ_key_size(size_t len) { return len + 5; }

// Writes the environ key of a header name not in the table: "HTTP_" + the name with
// ASCII letters upper-cased and '-' turned into '_'. out must hold environ_key_size(len)
// bytes; returns the number written (always environ_key_size(len); no NUL is added).
//
// Names that contain '_' must be dropped by the caller rather than keyed: "X_User" and
// "X-User" would both become HTTP_X_USER, so a client could spoof a header that a proxy
// in front sets (the proxy strips "X-User" but passes "X_User"). header_name_has_underscore
// says which names to drop.
size_t environ_key_for(const char* name, size_t len, char* out);

// True when the name contains '_' (see environ_key_for).
bool header_name_has_underscore(const char* name, size_t len);

}  // namespace tsgi
