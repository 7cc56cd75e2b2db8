#include "email.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::transform {

ComponentDescriptor Email::descriptor() {
  return {.name = "email",
          .version = "1.0.0",
          .summary = "Extracts e-mail addresses from a text field (domains lowercased)",
          .kind = ComponentKind::extractor,
          .params = extractor_params("emails"),
          .example = {.description = "Collects the distinct e-mail addresses of a message body",
                      .params = "field: body",
                      .input = R"({"body": "Ask ada@Example.ORG or bob@example.org (cc ada@example.org)."})",
                      .output = R"({"body": "Ask ada@Example.ORG or bob@example.org (cc ada@example.org).", "emails": ["ada@example.org", "bob@example.org"]})"}};
}

// The local part is a dot-atom (RFC 5322): dots only between other characters, so `user.@x.com`
// and `.user@x.com` are no addresses; the lookbehind keeps `a..b@x.com` from giving `b@x.com`.
Email::Email(const Params& params)
    : PatternExtractor(params, R"((?<![A-Za-z0-9._%+-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,})") {}

std::string Email::canonical(std::string_view match) const {
  std::string address(match);
  const auto at = address.find('@');
  std::transform(address.begin() + static_cast<std::ptrdiff_t>(at), address.end(), address.begin() + static_cast<std::ptrdiff_t>(at),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return address;
}

}  // namespace sluice::transform
