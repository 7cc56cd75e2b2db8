// docx_adapter: a Word 2007+ document (raw bytes of the .docx zip) → its text, paragraphs and
// table rows on lines of their own, and its core properties (docProps/core.xml). libzip opens
// the archive, pugixml reads the parts; a module of its own (libsluice-documents-docx.so) so
// that a machine without libzip loads the rest.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "raw_adapter.hpp"

namespace sluice::documents {

class DocxAdapter : public plugins::Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit DocxAdapter(const Params& params);

 protected:
  std::vector<Packet> convert(std::string_view bytes) override;
  bool decodes_itself() const override { return true; }  // bytes, not text in a charset

 private:
  std::size_t max_part_bytes_;
  std::size_t max_text_bytes_;
};

}  // namespace sluice::documents
