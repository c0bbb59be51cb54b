// Cached Date header line; see date_cache.h.
#include "date_cache.h"

#include <cstring>

namespace tsgi {

static void two_digits(char* out, int v) {
  out[0] = static_cast<char>('0' + v / 10);
  out[1] = static_cast<char>('0' + v % 10);
}

void format_http_date(std::time_t t, char* out) {
  static const char kDays[] = "SunMonTueWedThuFriSat";
  static const char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::tm tm;
  gmtime_r(&t, &tm);
  std::memcpy(out, kDays + 3 * tm.tm_wday, 3);
  out[3] = ',';
  out[4] = ' ';
  two_digits(out + 5, tm.tm_mday);
  out[7] = ' ';
  std::memcpy(out + 8, kMonths + 3 * tm.tm_mon, 3);
  out[11] = ' ';
  int year = tm.tm_year + 1900;
  two_digits(out + 12, year / 100);
  two_digits(out + 14, year % 100);
  out[16] = ' ';
  two_digits(out + 17, tm.tm_hour);
  out[19] = ':';
  two_digits(out + 20, tm.tm_min);
  out[22] = ':';
  two_digits(out + 23, tm.tm_sec);
  std::memcpy(out + 25, " GMT", 4);
}

void DateCache::update(std::time_t now) {
  if (now == last_) return;
  last_ = now;
  std::memcpy(line_, "Date: ", 6);
  format_http_date(now, line_ + 6);
  line_[35] = '\r';
  line_[36] = '\n';
  line_[37] = '\0';
}

}  // namespace tsgi
