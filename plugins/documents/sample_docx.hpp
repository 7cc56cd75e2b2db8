// .docx archives made with libzip in memory, for the package's tests and tests/documents/.
#pragma once

#include <zip.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sluice::documents::samples {

// A zip archive of `parts` (name → content), deflated.
inline std::string zip(const std::vector<std::pair<std::string, std::string>>& parts) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer) throw std::runtime_error(zip_error_strerror(&error));
  zip_source_keep(buffer);  // it outlives the archive: the archive is written into it
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (!archive) throw std::runtime_error(zip_error_strerror(&error));
  for (const auto& [name, content] : parts) {
    zip_source_t* part = zip_source_buffer(archive, content.data(), content.size(), 0);
    if (!part || zip_file_add(archive, name.c_str(), part, ZIP_FL_ENC_UTF_8) < 0)
      throw std::runtime_error(zip_strerror(archive));
  }
  if (zip_close(archive) != 0) throw std::runtime_error(zip_strerror(archive));
  std::string bytes;
  zip_stat_t stat;
  if (zip_source_stat(buffer, &stat) == 0 && zip_source_open(buffer) == 0) {
    bytes.resize(stat.size);
    zip_source_read(buffer, bytes.data(), stat.size);
    zip_source_close(buffer);
  }
  zip_source_free(buffer);
  return bytes;
}

inline constexpr const char* docx_mimetype =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

// word/document.xml around `body` (WordprocessingML, the `w:` prefix bound as Word binds it).
inline std::string word_document(const std::string& body) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
         "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
         "<w:body>" + body + "</w:body></w:document>";
}

// docProps/core.xml holding `properties` (e.g. "<dc:title>T</dc:title>").
inline std::string core_properties(const std::string& properties) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
         "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
         "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" "
         "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">" + properties + "</cp:coreProperties>";
}

// A .docx as Word writes one, reduced to the parts docx_adapter reads and the content types.
inline std::string docx(const std::string& body, const std::string& properties = "") {
  return zip({{"[Content_Types].xml",
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"},
              {"word/document.xml", word_document(body)},
              {"docProps/core.xml", core_properties(properties)}});
}

}  // namespace sluice::documents::samples
