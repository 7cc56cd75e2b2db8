// The browser editor's static files, served at / from RestApiOptions::editor_dir.
#include <filesystem>

#include "ingress/rest_call.hpp"
#include "support/files.hpp"
#include "support/strings.hpp"

namespace sluice {

namespace {

namespace fs = std::filesystem;

const char* content_type_for(const fs::path& file) {
  const std::string extension = lower(file.extension().string());
  if (extension == ".html" || extension == ".htm") return "text/html; charset=utf-8";
  if (extension == ".js" || extension == ".mjs") return "text/javascript; charset=utf-8";
  if (extension == ".css") return "text/css; charset=utf-8";
  if (extension == ".json" || extension == ".map") return "application/json";
  if (extension == ".svg") return "image/svg+xml";
  if (extension == ".png") return "image/png";
  if (extension == ".ico") return "image/x-icon";
  if (extension == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

bool RestApi::serve_editor_file(Call& call) {
  if (options_.editor_dir.empty()) return false;
  fs::path file = options_.editor_dir;
  const std::vector<std::string> segments = split_path(call.request.path);
  // Hidden files and `..` never leave the editor directory.
  for (const auto& segment : segments)
    if (segment.empty() || segment.front() == '.') return false;
  for (const auto& segment : segments) file /= segment;
  std::error_code ec;
  if (fs::is_directory(file, ec)) file /= "index.html";
  if (!fs::is_regular_file(file, ec)) return false;
  HttpResponse response;
  response.headers.emplace_back("Content-Type", content_type_for(file));
  try {
    response.body = read_file(file);
  } catch (const std::exception& e) {
    throw RequestError(500, e.what());
  }
  call.responder.send(std::move(response));
  return true;
}

}  // namespace sluice
