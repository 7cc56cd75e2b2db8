// Sample documents made byte by byte, for the package's tests and tests/documents/: no sample
// file needs a licence, and each test shows the very input it reads.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace sluice::documents::samples {

struct PdfSample {
  std::vector<std::string> pages = {};  // one line of text each (PDF string syntax: no parentheses)
  std::string information = "";    // the Info dictionary's entries, e.g. "/Title (T) /Author (A)"
  bool encrypted = false;          // a standard security handler whose user password is not ""
};

// A PDF 1.4 file with a cross-reference table that points at every object exactly, the pages
// in Helvetica (a standard font: nothing embedded). It starts with the binary comment line
// real PDFs have, so it is not UTF-8 and travels base64 (Packet::set_bytes).
inline std::string pdf(const PdfSample& sample) {
  std::vector<std::string> objects;  // objects[i] is object i + 1
  const int page_count = static_cast<int>(sample.pages.size());
  const int font = 3 + 2 * page_count, info = font + 1, encrypt = info + 1;
  std::string kids;
  for (int i = 0; i < page_count; ++i) kids += std::to_string(3 + 2 * i) + " 0 R ";
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(page_count) + " >>");
  for (int i = 0; i < page_count; ++i) {
    objects.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Contents " +
                      std::to_string(4 + 2 * i) + " 0 R /Resources << /Font << /F1 " +
                      std::to_string(font) + " 0 R >> >> >>");
    const std::string content = "BT /F1 14 Tf 20 100 Td (" + sample.pages[i] + ") Tj ET";
    objects.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                      "\nendstream");
  }
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  objects.push_back("<< " + sample.information + " >>");
  if (sample.encrypted)  // owner and user password hashes that no empty password matches
    objects.push_back("<< /Filter /Standard /V 1 /R 2 /P -4 /O <" + std::string(64, 'a') + "> /U <" +
                      std::string(64, 'b') + "> >>");

  std::string file = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(file.size());
    file += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = file.size();
  file += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (const std::size_t offset : offsets) {
    char entry[21];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
    file += entry;
  }
  file += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R /Info " +
          std::to_string(info) + " 0 R";
  if (sample.encrypted)
    file += " /Encrypt " + std::to_string(encrypt) + " 0 R /ID [<" + std::string(32, '1') + "> <" +
            std::string(32, '1') + ">]";
  file += " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return file;
}

}  // namespace sluice::documents::samples
