#include "url.hpp"

namespace sluice::transform {

ComponentDescriptor Url::descriptor() {
  return {.name = "url",
          .version = "1.0.0",
          .summary = "Extracts URLs (http, https, ftp, and www. addresses) from a text field",
          .kind = ComponentKind::extractor,
          .params = extractor_params("urls"),
          .example = {.description = "Collects the links of a text, www. addresses included",
                      .params = "field: text",
                      .input = R"({"text": "Docs at https://example.org/docs?page=2, mirror on www.example.com."})",
                      .output = R"({"text": "Docs at https://example.org/docs?page=2, mirror on www.example.com.", "urls": ["https://example.org/docs?page=2", "www.example.com"]})"}};
}

Url::Url(const Params& params)
    : PatternExtractor(params, R"(\b(?:(?:https?|ftp)://|www\.)[^\s<>"'`]+)") {}

}  // namespace sluice::transform
