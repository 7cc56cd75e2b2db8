// Dates as date_normalize reads and writes them (Howard Hinnant's date library, the system's
// zoneinfo), shared by the transform package and feed_adapter (documents).
#pragma once

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::plugins {

// ISO 8601 (RFC 3339, as Atom writes it) and RFC 5322 (as RSS writes it), the latter with a
// numeric offset or a zone abbreviation.
inline const std::vector<std::string> default_date_formats = {
    "%Y-%m-%dT%H:%M:%S%Ez", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M%Ez",    "%Y-%m-%dT%H:%MZ",     "%Y-%m-%dT%H:%M",     "%Y-%m-%d %H:%M:%S%Ez",
    "%Y-%m-%d %H:%M:%S",    "%Y-%m-%d",            "%a, %d %b %Y %H:%M:%S %z",
    "%d %b %Y %H:%M:%S %z", "%a, %d %b %Y %H:%M:%S %Z", "%d %b %Y %H:%M:%S %Z"};

using Nanos = std::chrono::nanoseconds;
// An instant, to the nanosecond.
using DateTime = date::sys_time<Nanos>;

// GCC 12 reports a false "may be used uninitialized" inside date.h's parser (a long double it
// sets before use on every path that reads it) wherever the parser is inlined; the pragma keeps
// -Werror builds working without hiding warnings in our own code elsewhere.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Parses all of `text` with `format`; false when it does not fit. `abbreviation` receives %Z.
inline bool parse_local(std::string_view text, const std::string& format, date::local_time<Nanos>& local,
                 std::string& abbreviation, std::chrono::minutes& offset) {
  std::istringstream in{std::string(text)};
  in >> date::parse(format, local, abbreviation, offset);
  return !in.fail() && in.peek() == std::char_traits<char>::eof();
}
#pragma GCC diagnostic pop


// A local time in `zone` as an instant. In a gap (spring forward) the offset before the gap
// applies, so 02:30 becomes 03:30 summer time, as in java.time and JavaScript's Temporal; in an
// overlap (fall back) the first of the two instants. Both are `first` of date's local_info.
inline date::sys_time<Nanos> local_to_sys(const date::time_zone& zone, date::local_time<Nanos> local) {
  const date::local_info info = zone.get_info(date::floor<std::chrono::seconds>(local));
  return date::sys_time<Nanos>(local.time_since_epoch() - info.first.offset);
}

// What a %Z abbreviation means: a fixed offset (the zones RFC 5322 names), or an IANA zone.
inline date::sys_time<Nanos> with_abbreviation(date::local_time<Nanos> local,
                                        const std::string& abbreviation) {
  static const std::pair<std::string_view, int> offsets[] = {
      {"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},    {"EST", -5}, {"EDT", -4},
      {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
  for (const auto& [name, hours] : offsets)
    if (abbreviation == name)
      return date::sys_time<Nanos>(local.time_since_epoch() - std::chrono::hours(hours));
  try {
    return local_to_sys(*date::locate_zone(abbreviation), local);
  } catch (const std::runtime_error&) {
    throw std::runtime_error("unknown time zone '" + abbreviation + "'");
  }
}

// RFC 3339 allows a lowercase `t` and `z` in ISO 8601 timestamps; the formats use capitals.
inline std::string capitalize_iso_letters(std::string_view text) {
  std::string out(text);
  const bool iso_date = out.size() > 10 && out[4] == '-' && out[7] == '-';
  if (iso_date && out[10] == 't') out[10] = 'T';
  if (iso_date && out.back() == 'z') out.back() = 'Z';
  return out;
}

// The instant `text` stands for by the first of `formats` that reads all of it; none: nullopt.
// Throws std::runtime_error for a zone that a format reads but that does not exist.
inline std::optional<date::sys_time<Nanos>> read_date(std::string_view text,
                                               const std::vector<std::string>& formats,
                                               const date::time_zone& input_zone) {
  text.remove_prefix(std::min(text.size(), text.find_first_not_of(" \t\r\n")));
  text.remove_suffix(text.size() - (text.find_last_not_of(" \t\r\n") + 1));
  const std::string normalized = capitalize_iso_letters(text);
  for (const auto& format : formats) {
    date::local_time<Nanos> local;
    std::string abbreviation;
    std::chrono::minutes offset{0};
    if (!parse_local(normalized, format, local, abbreviation, offset)) continue;
    const bool reads_zone = format.find("%Z") != std::string::npos;
    const bool literal_z = format.ends_with('Z') && !format.ends_with("%Z");
    if (format.find("%z") != std::string::npos || format.find("%Ez") != std::string::npos ||
        literal_z)
      return date::sys_time<Nanos>(local.time_since_epoch()) - offset;
    if (reads_zone) return with_abbreviation(local, abbreviation);
    return local_to_sys(input_zone, local);
  }
  return std::nullopt;
}

// ISO 8601 in `zone`: UTC with a Z suffix, others with their offset (+01:00). Whole seconds
// print without a fraction, others with microseconds, or nanoseconds when the input had them.
inline std::string format_instant(date::sys_time<Nanos> instant, const date::time_zone* zone) {
  const bool utc = zone->name() == "UTC" || zone->name() == "Etc/UTC";
  const char* format = utc ? "%FT%TZ" : "%FT%T%Ez";
  const auto seconds = date::floor<std::chrono::seconds>(instant);
  const auto micros = date::floor<std::chrono::microseconds>(instant);
  return seconds == instant  ? date::format(format, date::make_zoned(zone, seconds))
         : micros == instant ? date::format(format, date::make_zoned(zone, micros))
                             : date::format(format, date::make_zoned(zone, instant));
}

// `text` (a date by one of default_date_formats, zone-less ones taken as UTC) as
// date_normalize writes it in UTC: `2024-03-01T12:00:00Z`; nullopt when no format reads it.
inline std::optional<std::string> iso8601_utc(std::string_view text) {
  static const date::time_zone* const utc = date::locate_zone("UTC");
  try {
    const std::optional<date::sys_time<Nanos>> instant = read_date(text, default_date_formats, *utc);
    if (instant) return format_instant(*instant, utc);
  } catch (const std::runtime_error&) {  // a zone abbreviation that names no zone
  }
  return std::nullopt;
}

}  // namespace sluice::plugins
