#include "split.hpp"

#include <stdexcept>
#include <utility>

namespace sluice::flow {

ComponentDescriptor Split::descriptor() {
  return {.name = "split",
          .version = "1.0.0",
          .summary = "Emits one packet per element of an array field, keeping the other fields "
                     "and the metadata",
          .kind = ComponentKind::operator_,
          .params = {{.name = "field",
                      .type = ParamType::string,
                      .description = "path of the array field to split",
                      .required = true},
                     {.name = "into",
                      .type = ParamType::string,
                      .description = "field path for the element in each child (default: the "
                                     "split field itself)"},
                     {.name = "index",
                      .type = ParamType::string,
                      .description = "optional field path for the element's 0-based position"}},
          .example = {.description = "One packet per tag, with its position",
                      .params = R"(field: tags
into: tag
index: position)",
                      .input = R"({"id": 1, "tags": ["red", "blue"]})",
                      .output = R"({"id": 1, "tag": "red", "position": 0}
{"id": 1, "tag": "blue", "position": 1})"}};
}

Split::Split(const Params& params)
    : field_(params.get_string("field")),
      into_(params.get_string("into", field_.text())),
      index_(params.get_string("index", "")) {}

void Split::process(Packet& packet, Emitter& emit) {
  Value* found = packet.find_path(field_);
  if (!found) throw std::runtime_error("split: field '" + field_.text() + "' is missing");
  if (!found->is_array())
    throw std::runtime_error("split: field '" + field_.text() + "' is " + found->type_name() +
                             ", not an array");
  // Take the array out first so that each child copies the rest of the packet, not the array.
  Array items = std::move(found->as_array());
  *found = nullptr;
  // With `into` elsewhere the split field goes away (a nested one stays as null).
  if (into_.text() != field_.text() && field_.is_top_level()) packet.erase(field_.steps().front().key);
  for (std::size_t i = 0; i < items.size(); ++i) {
    Packet child = i + 1 < items.size() ? packet.clone() : std::move(packet);
    if (!child.set_path(into_, std::move(items[i])))
      throw std::runtime_error("split: cannot set field '" + into_.text() + "'");
    if (!index_.text().empty()) child.set_path(index_, static_cast<std::int64_t>(i));
    emit(std::move(child));
  }
}

}  // namespace sluice::flow
