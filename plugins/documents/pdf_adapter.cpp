#include "pdf_adapter.hpp"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <climits>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "document_fields.hpp"

namespace sluice::documents {

namespace {

// poppler reports what it could not parse through one process-wide callback; each thread
// keeps the last message it was told, so that an error can say why a document did not load.
thread_local std::string last_poppler_message;

void keep_poppler_message(const std::string& message, void*) { last_poppler_message = message; }

std::string utf8(const poppler::ustring& text) {
  const poppler::byte_array bytes = text.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

// The document information dictionary, under the names docx_adapter gives core properties.
void set_information(const poppler::document& document, int pages, Packet& packet) {
  set_text_unless_empty(packet, "title", utf8(document.get_title()));
  set_text_unless_empty(packet, "author", utf8(document.get_author()));
  set_text_unless_empty(packet, "subject", utf8(document.get_subject()));
  set_text_unless_empty(packet, "keywords", utf8(document.get_keywords()));
  set_text_unless_empty(packet, "creator", utf8(document.get_creator()));
  set_text_unless_empty(packet, "producer", utf8(document.get_producer()));
  set_time_unless_unset(packet, "created", document.get_creation_date_t());
  set_time_unless_unset(packet, "modified", document.get_modification_date_t());
  packet.set("pages", static_cast<std::int64_t>(pages));
}

}  // namespace

ComponentDescriptor PdfAdapter::descriptor() {
  return adapter_descriptor(
      "pdf_adapter",
      "Reads a PDF: its text (reading order) and information (title, author, subject, keywords, "
      "creator, producer, created, modified, pages), one packet for the document or one per page",
      {"application/pdf"},
      {{.name = "per",
        .type = ParamType::string,
        .description = "`document`: one packet, the pages' text joined by a blank line; `page`: "
                       "one packet per page, with `page` (from 1)",
        .default_value = "document",
        .allowed = {"document", "page"}},
       {.name = "max_pages",
        .type = ParamType::integer,
        .description = "a PDF with more pages fails (to the error port)",
        .default_value = 2000,
        .minimum = 1},
       {.name = "max_text_bytes",
        .type = ParamType::integer,
        .description = "a PDF whose text is longer (UTF-8 bytes, all pages) fails",
        .default_value = 16 << 20,
        .minimum = 1}},
      ComponentExample{.description = R"(Reads PDFs posted as they are (curl --data-binary @paper.pdf -H "Content-Type: application/pdf"), a packet per page)",
                       .params = R"(per: page
max_pages: 500)"});
}

PdfAdapter::PdfAdapter(const Params& params)
    : Adapter(params),
      per_page_(params.get_string("per") == "page"),
      max_pages_(static_cast<std::size_t>(params.get_int("max_pages"))),
      max_text_bytes_(static_cast<std::size_t>(params.get_int("max_text_bytes"))) {
  static std::once_flag hooked;  // one process-wide hook, whatever the number of instances
  std::call_once(hooked, [] { poppler::set_debug_error_function(&keep_poppler_message, nullptr); });
}

std::vector<Packet> PdfAdapter::convert(std::string_view bytes) {
  if (bytes.size() > INT_MAX) throw std::runtime_error("PDF of " + std::to_string(bytes.size()) + " bytes: too large");
  last_poppler_message.clear();
  // poppler reads the bytes in place: they outlive `document`.
  std::unique_ptr<poppler::document> document(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!document)
    throw std::runtime_error("not a readable PDF" +
                             (last_poppler_message.empty() ? std::string() : ": " + last_poppler_message));
  if (document->is_locked())
    throw std::runtime_error("PDF is encrypted with a password: its text cannot be read");
  const int pages = document->pages();
  if (static_cast<std::size_t>(pages) > max_pages_)
    throw std::runtime_error("PDF has " + std::to_string(pages) + " pages, more than max_pages (" +
                             std::to_string(max_pages_) + ")");

  std::vector<Packet> children;
  std::string all_text;
  std::size_t text_bytes = 0;
  for (int index = 0; index < pages; ++index) {
    const std::unique_ptr<poppler::page> page(document->create_page(index));
    std::string text =
        page ? utf8(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)) : std::string();
    text_bytes += text.size();
    if (text_bytes > max_text_bytes_)
      throw std::runtime_error("PDF text exceeds max_text_bytes (" + std::to_string(max_text_bytes_) +
                               ") at page " + std::to_string(index + 1));
    if (per_page_) {
      Packet child;
      set_information(*document, pages, child);
      child.set("page", static_cast<std::int64_t>(index + 1));
      child.set("text", trim_text(text));
      children.push_back(std::move(child));
    } else {
      const std::string trimmed = trim_text(text);
      if (!all_text.empty() && !trimmed.empty()) all_text += "\n\n";
      all_text += trimmed;
    }
  }
  if (!per_page_) {
    Packet child;
    set_information(*document, pages, child);
    child.set("text", std::move(all_text));
    children.push_back(std::move(child));
  }
  return children;
}

}  // namespace sluice::documents
