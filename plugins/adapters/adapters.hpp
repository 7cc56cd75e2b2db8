// The adapters package: raw packets (bytes in field `data`, type in meta `mimetype`) → structured
// packets.
//   json_adapter    a JSON object or an array of objects
//   ndjson_adapter  one packet per line of newline-delimited JSON
//   csv_adapter     one packet per row; the header row (or column1..N) names the fields
//   text_adapter    one packet per line, or the whole text
//   xml_adapter     one packet per record element; fields by XPath, or the element as JSON
//   html_adapter    title, visible text and links of a page
// Every adapter passes packets of another mimetype (or none) to its `unmatched` port, so
// nothing is dropped silently; children keep the raw packet's metadata.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sluice/component.hpp>

#include "raw_adapter.hpp"

namespace pugi {
class xpath_query;
}

namespace sluice::adapters {

using plugins::Adapter;

class JsonAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit JsonAdapter(const Params& params) : Adapter(params) {}

 protected:
  std::vector<Packet> convert(std::string_view text) override;
};

class NdjsonAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit NdjsonAdapter(const Params& params) : Adapter(params) {}

 protected:
  std::vector<Packet> convert(std::string_view text) override;
};

class CsvAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit CsvAdapter(const Params& params);

 protected:
  std::vector<Packet> convert(std::string_view text) override;

 private:
  char delimiter_;
  char quote_;
  bool header_;
  bool infer_types_;
};

class TextAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit TextAdapter(const Params& params);

 protected:
  std::vector<Packet> convert(std::string_view text) override;

 private:
  bool lines_;
  bool skip_empty_;
  std::string into_;
};

class XmlAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit XmlAdapter(const Params& params);
  ~XmlAdapter() override;

 protected:
  std::vector<Packet> convert(std::string_view text) override;
  bool decodes_itself() const override { return true; }

 private:
  // XPath queries are compiled once, at construction.
  std::unique_ptr<pugi::xpath_query> records_;
  std::vector<std::pair<std::string, std::unique_ptr<pugi::xpath_query>>> fields_;
  // Namespace URI → the prefix the XPaths use for it (param `namespaces`).
  std::map<std::string, std::string> prefix_of_uri_;
};

class HtmlAdapter : public Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit HtmlAdapter(const Params& params) : Adapter(params) {}

 protected:
  std::vector<Packet> convert(std::string_view text) override;
};

}  // namespace sluice::adapters
