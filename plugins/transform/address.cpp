#include "address.hpp"

#include <cctype>
#include <memory>
#include <optional>
#include <stdexcept>

#include "email.hpp"
#include "url.hpp"

namespace sluice::transform {

namespace {

// Takes back the packet an extractor emits, so that the next one works on it.
class Passback : public Emitter {
 public:
  explicit Passback(const Emitter& outer) : outer_(outer) {}
  std::optional<Packet> packet;
  void emit(std::size_t, Packet&& emitted) override { packet = std::move(emitted); }
  std::size_t out_port_index(std::string_view) const override { return 0; }
  void deliver(Packet&&) override {}
  const std::string& node_path() const override { return outer_.node_path(); }  // the address node's

 private:
  const Emitter& outer_;
};

// The params of one of the three extractors: the same field, its own list field.
Params kind_params(const Params& params, std::string_view kind) {
  return Params(Object{{"field", params.get_string("field")}, {"into", params.get_string(kind)}});
}

}  // namespace

Phone::Phone(const Params& params)
    : PatternExtractor(params,
                       // + and a country code, then groups of digits; or a national number:
                       // an area code (bracketed or not) and two to four groups. An ISO date
                       // (2024-03-01) has the shape of the latter but is none.
                       R"((?<![\w+])(?:\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){1,4})"
                       R"(|(?!\d{4}-\d\d-\d\d\b)(?:\(\d{2,5}\) ?|\d{2,5}[ .-])\d{2,4}(?:[ .-]\d{2,4}){1,3})(?!\w))") {}

std::string Phone::canonical(std::string_view match) const {
  std::string digits;
  if (match.starts_with('+')) digits += '+';
  for (const char c : match)
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  return digits;
}

ComponentDescriptor Address::descriptor() {
  return {.name = "address",
          .version = "1.0.0",
          .summary = "Extracts the contact addresses of a text field: e-mail addresses, URLs "
                     "and telephone numbers, each kind into a list field",
          .kind = ComponentKind::extractor,
          .params = {{.name = "field",
                      .type = ParamType::string,
                      .description = "path of the text field to search",
                      .required = true},
                     {.name = "kinds",
                      .type = ParamType::string_list,
                      .description = "which kinds to extract",
                      .default_value = Array{"email", "url", "phone"}},
                     {.name = "emails",
                      .type = ParamType::string,
                      .description = "path that receives the distinct e-mail addresses (domain "
                                     "lowercased), in order of appearance",
                      .default_value = "emails"},
                     {.name = "urls",
                      .type = ParamType::string,
                      .description = "path that receives the distinct URLs",
                      .default_value = "urls"},
                     {.name = "phones",
                      .type = ParamType::string,
                      .description = "path that receives the distinct telephone numbers, digits "
                                     "only (+ kept)",
                      .default_value = "phones"}},
          .example = {.description = "Collects e-mail addresses, URLs and telephone numbers of a signature, each kind into its own field",
                      .params = "field: signature",
                      .input = R"({"signature": "Ada L., +44 20 7946 0958, ada@example.org, https://example.org"})",
                      .output = R"({"signature": "Ada L., +44 20 7946 0958, ada@example.org, https://example.org", "emails": ["ada@example.org"], "urls": ["https://example.org"], "phones": ["+442079460958"]})"}};
}

Address::Address(const Params& params) {
  for (const std::string& kind : params.get_string_list("kinds")) {
    if (kind == "email")
      extractors_.push_back(std::make_unique<Email>(kind_params(params, "emails")));
    else if (kind == "url")
      extractors_.push_back(std::make_unique<Url>(kind_params(params, "urls")));
    else if (kind == "phone")
      extractors_.push_back(std::make_unique<Phone>(kind_params(params, "phones")));
    else
      throw std::invalid_argument("param 'kinds': unknown kind '" + kind + "' (email, url or phone)");
  }
}

void Address::process(Packet& packet, Emitter& emit) {
  for (const auto& extractor : extractors_) {
    Passback passback(emit);
    extractor->process(packet, passback);
    packet = std::move(*passback.packet);
  }
  emit(std::move(packet));
}

}  // namespace sluice::transform
