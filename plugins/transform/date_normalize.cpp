#include "date_normalize.hpp"

#include <date/tz.h>

#include <optional>
#include <stdexcept>

#include "iso_dates.hpp"

namespace sluice::transform {

ComponentDescriptor DateNormalize::descriptor() {
  return {.name = "date_normalize",
          .version = "1.0.0",
          .summary = "Rewrites date/time fields as ISO 8601 (e.g. 2024-03-01T12:00:00Z)",
          .kind = ComponentKind::transformer,
          .params = {{.name = "fields",
                      .type = ParamType::string_list,
                      .description = "paths of the fields to rewrite; numbers are Unix epoch "
                                     "seconds, or milliseconds when 10^11 or more in magnitude",
                      .required = true},
                     {.name = "formats",
                      .type = ParamType::string_list,
                      .description = "input formats tried in order (strftime-style, as in "
                                     "Howard Hinnant's date::parse: %Y %m %d %H %M %S %b %a %z "
                                     "%Ez …); a trailing literal Z means UTC; %Z reads a zone "
                                     "abbreviation (UT, UTC, GMT, Z, the US zones of RFC 5322 "
                                     "such as EST and PDT) or an IANA zone name",
                      .default_value = Array(plugins::default_date_formats.begin(), plugins::default_date_formats.end())},
                     {.name = "timezone",
                      .type = ParamType::string,
                      .description = "IANA zone of inputs without an offset (e.g. Europe/Berlin); "
                                     "a time in a DST gap is read with the offset before the gap, "
                                     "one in an overlap as the earlier instant",
                      .default_value = "UTC"},
                     {.name = "output_timezone",
                      .type = ParamType::string,
                      .description = "IANA zone the result is written in: UTC gives a Z suffix, "
                                     "others their offset (+01:00)",
                      .default_value = "UTC"}},
          .example = {.description = "Rewrites local Berlin times, RFC 5322 dates and epoch seconds as UTC ISO 8601",
                      .params = R"(fields: [when]
timezone: Europe/Berlin)",
                      .input = R"({"when": "2024-03-01 12:00:00"}
{"when": "Fri, 01 Mar 2024 12:00:00 +0000"}
{"when": 1709294400})",
                      .output = R"({"when": "2024-03-01T11:00:00Z"}
{"when": "2024-03-01T12:00:00Z"}
{"when": "2024-03-01T12:00:00Z"})"}};
}

namespace {

// Seconds below this magnitude are years before 5138; milliseconds above it are after 1973.
constexpr double epoch_milliseconds_from = 1e11;

const date::time_zone* zone_param(const Params& params, std::string_view name) {
  const std::string zone = params.get_string(name);
  try {
    return date::locate_zone(zone);
  } catch (const std::exception&) {
    throw std::invalid_argument("param '" + std::string(name) + "': unknown time zone '" + zone +
                                "'");
  }
}

}  // namespace

DateNormalize::DateNormalize(const Params& params)
    : fields_(field_paths(params.get_string_list("fields"))),
      formats_(params.get_string_list("formats")),
      input_zone_(zone_param(params, "timezone")),
      output_zone_(zone_param(params, "output_timezone")) {
  if (formats_.empty()) throw std::invalid_argument("param 'formats' is empty");
}

void DateNormalize::process(Packet& packet, Emitter& emit) {
  for (const auto& field : fields_) {
    Value* value = packet.find_path(field);
    if (!value || value->is_null()) continue;
    std::optional<plugins::DateTime> instant;
    try {
      if (value->is_number()) {
        const double number = value->as_double();
        const double seconds =
            std::abs(number) >= epoch_milliseconds_from ? number / 1000 : number;
        instant = plugins::DateTime(
            std::chrono::round<std::chrono::microseconds>(std::chrono::duration<double>(seconds)));
      } else if (value->is_string()) {
        instant = plugins::read_date(value->as_string(), formats_, *input_zone_);
      }
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("date_normalize: field '" + field.text() + "' (" +
                               value->to_display_string() + "): " + e.what());
    }
    if (!instant)
      throw std::runtime_error("date_normalize: field '" + field.text() + "' (" +
                               value->to_display_string() + ") matches none of the formats");
    *value = plugins::format_instant(*instant, output_zone_);
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
