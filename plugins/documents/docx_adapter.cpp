#include "docx_adapter.hpp"

#include <zip.h>

#include <pugixml.hpp>

#include <memory>
#include <optional>
#include <stdexcept>

#include "document_fields.hpp"
#include "xml_parse.hpp"

namespace sluice::documents {

namespace {

// An open archive over bytes it does not own; closed (without writing) on the way out.
class ZipArchive {
 public:
  explicit ZipArchive(std::string_view bytes) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (source) {
      archive_ = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
      if (!archive_) zip_source_free(source);
    }
    if (!archive_) {
      const std::string reason = zip_error_strerror(&error);
      zip_error_fini(&error);
      throw std::runtime_error("not a readable DOCX (zip archive): " + reason);
    }
    zip_error_fini(&error);
  }
  ~ZipArchive() { zip_discard(archive_); }
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  // The unpacked bytes of `name`, or nothing when the archive lacks it. The archive's own
  // size field is not trusted: reading stops past `max_bytes`, so a zip bomb costs no more.
  std::optional<std::string> read(const char* name, std::size_t max_bytes) {
    const zip_int64_t index = zip_name_locate(archive_, name, 0);
    if (index < 0) return std::nullopt;
    const auto too_large = [&] {
      return std::runtime_error(std::string(name) + " unpacks to more than max_part_bytes (" +
                                std::to_string(max_bytes) + ")");
    };
    zip_stat_t stat;
    if (zip_stat_index(archive_, static_cast<zip_uint64_t>(index), 0, &stat) == 0 &&
        (stat.valid & ZIP_STAT_SIZE) && stat.size > max_bytes)
      throw too_large();
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file(
        zip_fopen_index(archive_, static_cast<zip_uint64_t>(index), 0), &zip_fclose);
    if (!file) throw std::runtime_error(std::string(name) + ": " + zip_strerror(archive_));
    std::string content;
    char buffer[64 * 1024];
    for (;;) {
      const zip_int64_t got = zip_fread(file.get(), buffer, sizeof buffer);
      if (got < 0) throw std::runtime_error(std::string(name) + ": " + zip_file_strerror(file.get()));
      if (got == 0) return content;
      if (content.size() + static_cast<std::size_t>(got) > max_bytes) throw too_large();
      content.append(buffer, static_cast<std::size_t>(got));
    }
  }

 private:
  zip_t* archive_ = nullptr;
};

// WordprocessingML elements by their local name: documents bind the namespace to `w:` as a
// rule, but nothing obliges them to.
std::string_view local_name(const pugi::xml_node& node) {
  const std::string_view name = node.name();
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The body's text in document order: a paragraph (`p`) starts a line, a table cell (`tc`)
// after the first of its row a tab; runs of text (`t`), tabs and breaks as they are. The
// walk is pugixml's own, without recursion, whatever the nesting.
class BodyText : public pugi::xml_tree_walker {
 public:
  explicit BodyText(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  std::string text;

  bool for_each(pugi::xml_node& node) override {
    if (node.type() != pugi::node_element) return true;
    const std::string_view name = local_name(node);
    if (name == "p") {
      if (!text.empty() && text.back() != '\n' && text.back() != '\t') text += '\n';
    } else if (name == "tc") {
      if (local_name(node.previous_sibling()) == "tc") text += '\t';
    } else if (name == "t") {
      text += node.text().get();
    } else if (name == "tab") {
      text += '\t';
    } else if (name == "br" || name == "cr") {
      text += '\n';
    }
    if (text.size() > max_bytes_)
      throw std::runtime_error("DOCX text exceeds max_text_bytes (" + std::to_string(max_bytes_) + ")");
    return true;
  }

 private:
  std::size_t max_bytes_;
};

// docProps/core.xml (Dublin Core and OPC core properties) → fields; `creator` is the
// author, as pdf_adapter names it. Dates are W3CDTF already (2024-03-01T12:00:00Z).
void set_core_properties(const pugi::xml_document& core, Packet& packet) {
  static constexpr std::pair<std::string_view, std::string_view> field_of[] = {
      {"title", "title"},       {"creator", "author"},   {"subject", "subject"},
      {"keywords", "keywords"}, {"description", "description"}, {"category", "category"},
      {"lastModifiedBy", "last_modified_by"}, {"created", "created"}, {"modified", "modified"}};
  for (const pugi::xml_node& property : core.document_element().children()) {
    const std::string_view name = local_name(property);
    for (const auto& [property_name, field] : field_of)
      if (name == property_name) set_text_unless_empty(packet, field, trim_text(property.text().get()));
  }
}

}  // namespace

ComponentDescriptor DocxAdapter::descriptor() {
  return adapter_descriptor(
      "docx_adapter",
      "Reads a Word 2007+ document (.docx): its text (a line per paragraph, table cells "
      "tab-separated) and core properties (title, author, subject, keywords, description, "
      "category, last_modified_by, created, modified)",
      {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {{.name = "max_part_bytes",
        .type = ParamType::integer,
        .description = "a part of the archive (word/document.xml, docProps/core.xml) that "
                       "unpacks to more fails: a zip bomb is refused by size",
        .default_value = 64 << 20,
        .minimum = 1},
       {.name = "max_text_bytes",
        .type = ParamType::integer,
        .description = "a document whose text is longer (UTF-8 bytes) fails",
        .default_value = 16 << 20,
        .minimum = 1}},
      ComponentExample{.description = R"(Reads Word documents posted as they are (curl --data-binary @report.docx -H "Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document"), refusing ones whose text passes 4 MiB)",
                       .params = "max_text_bytes: 4194304"});
}

DocxAdapter::DocxAdapter(const Params& params)
    : Adapter(params),
      max_part_bytes_(static_cast<std::size_t>(params.get_int("max_part_bytes"))),
      max_text_bytes_(static_cast<std::size_t>(params.get_int("max_text_bytes"))) {}

std::vector<Packet> DocxAdapter::convert(std::string_view bytes) {
  ZipArchive archive(bytes);
  const std::optional<std::string> body = archive.read("word/document.xml", max_part_bytes_);
  if (!body) throw std::runtime_error("not a Word document: the archive has no word/document.xml");
  Packet child;
  if (const auto core = archive.read("docProps/core.xml", max_part_bytes_)) {
    pugi::xml_document properties;
    plugins::load_xml(properties, *core, "docProps/core.xml");
    set_core_properties(properties, child);
  }
  pugi::xml_document document;
  plugins::load_xml(document, *body, "word/document.xml");
  BodyText text(max_text_bytes_);
  document.traverse(text);
  child.set("text", trim_text(text.text));
  std::vector<Packet> children;
  children.push_back(std::move(child));
  return children;
}

}  // namespace sluice::documents
