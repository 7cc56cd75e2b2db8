// pdf_adapter: a PDF (raw bytes) → its text and document information, one packet for the
// document or one per page. poppler's C++ API (libpoppler-cpp) reads it; this is a module of
// its own (libsluice-documents-pdf.so) so that a machine without poppler loads the rest.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "raw_adapter.hpp"

namespace sluice::documents {

class PdfAdapter : public plugins::Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit PdfAdapter(const Params& params);

 protected:
  std::vector<Packet> convert(std::string_view bytes) override;
  bool decodes_itself() const override { return true; }  // bytes, not text in a charset

 private:
  bool per_page_;
  std::size_t max_pages_;
  std::size_t max_text_bytes_;
};

}  // namespace sluice::documents
