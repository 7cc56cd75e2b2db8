#include "xml_adapter.hpp"

#include <pugixml.hpp>

#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include <sluice/json.hpp>

#include "xml_parse.hpp"

namespace sluice::adapters {

ComponentDescriptor XmlAdapter::descriptor() {
  return adapter_descriptor(
      "xml_adapter", "Parses XML: one packet per record element, fields by XPath",
      {"application/xml", "text/xml", "application/rss+xml", "application/atom+xml",
       "application/rdf+xml"},
      {{.name = "records",
        .type = ParamType::string,
        .description = "XPath selecting the record elements (e.g. /feed/entry)",
        .default_value = "/*"},
       {.name = "fields",
        .type = ParamType::object,
        .description = "field name → XPath relative to the record (e.g. {title: title, id: "
                       "\"@id\"}), each giving the text of its match (absent if none; several "
                       "matches: an array of their texts), or the value of an expression such as "
                       "count(item) (integral numbers as integers); unset: the whole record "
                       "element as JSON (attributes as @name, repeated children as arrays, text "
                       "as #text when mixed)"},
       {.name = "namespaces",
        .type = ParamType::object,
        .description = "prefix → namespace URI for the XPaths: an element or attribute in that "
                       "namespace is matched by this prefix whatever prefix the document uses; "
                       "merged over the defaults dc (Dublin Core), content and media (RSS "
                       "modules)",
        .default_value = Object{}}},
      ComponentExample{.description = "A packet per <book> element, with its title and its id attribute",
                       .params = R"(records: /catalog/book
fields: { title: title, id: "@id" })",
                       .input = R"(<catalog><book id="b1"><title>Emma</title></book><book id="b2"><title>Persuasion</title></book></catalog>)",
                       .content_type = "application/xml",
                       .output = R"({"title": "Emma", "id": "b1"}
{"title": "Persuasion", "id": "b2"})"});
}

namespace {

pugi::xpath_query* compile_xpath(const std::string& param, const std::string& expression) {
  try {
    return new pugi::xpath_query(expression.c_str());
  } catch (const pugi::xpath_exception& e) {
    throw std::invalid_argument("param '" + param + "': bad XPath '" + expression + "' at offset " +
                                std::to_string(e.result().offset) + ": " + e.what());
  }
}

// XPath has one number type; count(), sum() of integers and the like are integers in JSON.
Value xpath_number(double number) {
  if (std::trunc(number) == number && std::abs(number) < 9007199254740992.0)  // 2^53: exact
    return static_cast<std::int64_t>(number);
  return number;
}

// True when no element is nested deeper than the JSON limit: the walks below recurse once per
// level (pugixml's own parser and destructor do not), and their output is JSON.
bool within_json_depth(pugi::xml_document& document) {
  struct DepthCheck : pugi::xml_tree_walker {
    bool for_each(pugi::xml_node& node) override {
      return node.type() != pugi::node_element || static_cast<std::size_t>(depth()) < json::max_depth;
    }
  } check;
  return document.traverse(check);
}

// An element as JSON: text-only elements are strings; otherwise an object.
Value element_to_value(const pugi::xml_node& element) {
  Object object;
  std::string text;
  bool has_children = false;
  for (const auto& attribute : element.attributes())
    object.set(std::string("@") + attribute.name(), attribute.value());
  for (const auto& child : element.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    } else if (child.type() == pugi::node_element) {
      has_children = true;
      Value value = element_to_value(child);
      if (Value* existing = object.find(child.name())) {
        if (!existing->is_array()) *existing = Array{std::move(*existing)};
        existing->as_array().push_back(std::move(value));
      } else {
        object.set(child.name(), std::move(value));
      }
    }
  }
  text = has_children ? std::string(sluice::text::trim(text)) : text;
  if (!has_children && object.empty()) return text;
  if (!text.empty()) object.set("#text", std::move(text));
  return object;
}

// Renames the elements and attributes under `node` whose namespace URI is in `prefix_of_uri`
// to that prefix, so that XPath (which pugixml matches by qualified name) finds them by the
// namespace rather than by the prefix a document happens to choose. `in_scope` maps the
// document's prefixes ("" for the default namespace) to URIs.
void rename_by_namespace(pugi::xml_node node, std::map<std::string, std::string> in_scope,
                         const std::map<std::string, std::string>& prefix_of_uri) {
  for (const auto& attribute : node.attributes()) {
    const std::string_view name = attribute.name();
    if (name == "xmlns") in_scope[""] = attribute.value();
    if (name.starts_with("xmlns:")) in_scope[std::string(name.substr(6))] = attribute.value();
  }
  // Gives `name` (prefix:local) the prefix chosen for its namespace; unprefixed attributes
  // have no namespace, unprefixed elements the default one.
  auto renamed = [&](std::string_view name, bool element) -> std::optional<std::string> {
    const auto colon = name.find(':');
    if (colon == std::string_view::npos && !element) return std::nullopt;
    const std::string prefix(colon == std::string_view::npos ? "" : name.substr(0, colon));
    if (prefix == "xmlns") return std::nullopt;
    const auto uri = in_scope.find(prefix);
    if (uri == in_scope.end()) return std::nullopt;
    const auto chosen = prefix_of_uri.find(uri->second);
    if (chosen == prefix_of_uri.end() || chosen->second == prefix) return std::nullopt;
    return chosen->second + ":" +
           std::string(colon == std::string_view::npos ? name : name.substr(colon + 1));
  };
  if (auto name = renamed(node.name(), true)) node.set_name(name->c_str());
  for (auto attribute : node.attributes())
    if (auto name = renamed(attribute.name(), false)) attribute.set_name(name->c_str());
  for (auto child : node.children())
    if (child.type() == pugi::node_element) rename_by_namespace(child, in_scope, prefix_of_uri);
}

// The namespaces feeds use, by their customary prefixes. Atom is here for Atom elements inside
// RSS (atom:link); an Atom feed's own unprefixed elements keep matching unprefixed XPaths.
const std::map<std::string, std::string> default_namespaces = {
    {"dc", "http://purl.org/dc/elements/1.1/"},
    {"content", "http://purl.org/rss/1.0/modules/content/"},
    {"media", "http://search.yahoo.com/mrss/"},
};

}  // namespace

XmlAdapter::XmlAdapter(const Params& params)
    : Adapter(params), records_(compile_xpath("records", params.get_string("records"))) {
  for (const auto& [prefix, uri] : default_namespaces) prefix_of_uri_[uri] = prefix;
  const Value given = params.get("namespaces");
  for (const auto& [prefix, uri] : given.as_object()) {
    if (!uri.is_string() || prefix.empty() || prefix.find(':') != std::string::npos)
      throw std::invalid_argument("param 'namespaces': '" + prefix +
                                  "' must be a prefix (no colon) mapped to a URI string");
    prefix_of_uri_[uri.as_string()] = prefix;  // over a default prefix for the same URI
  }
  if (records_->return_type() != pugi::xpath_type_node_set)
    throw std::invalid_argument("param 'records': the XPath must select nodes, not compute a value");
  if (!params.has("fields")) return;
  for (const auto& [name, expression] : params.get("fields").as_object()) {
    if (!expression.is_string())
      throw std::invalid_argument("param 'fields': the XPath of '" + name + "' is " +
                                  expression.type_name() + ", not a string");
    fields_.emplace_back(name, std::unique_ptr<pugi::xpath_query>(
                                   compile_xpath("fields." + name, expression.as_string())));
  }
}

XmlAdapter::~XmlAdapter() = default;


std::vector<Packet> XmlAdapter::convert(std::string_view text) {
  pugi::xml_document document;
  plugins::load_xml(document, text, "XML");
  if (!within_json_depth(document))
    throw std::runtime_error("XML nested deeper than " + std::to_string(json::max_depth) + " elements");
  rename_by_namespace(document.document_element(), {}, prefix_of_uri_);
  std::vector<Packet> children;
  for (const auto& record : records_->evaluate_node_set(document)) {
    const pugi::xml_node node = record.node() ? record.node() : record.parent();
    Packet child;
    if (fields_.empty()) {
      Value value = element_to_value(node);
      if (value.is_object())
        child = Packet(std::move(value.as_object()));
      else
        child.set(node.name(), std::move(value));
    } else {
      for (const auto& [name, query] : fields_) {
        switch (query->return_type()) {
          case pugi::xpath_type_node_set: {
            const pugi::xpath_node_set found = query->evaluate_node_set(node);
            auto text = [](const pugi::xpath_node& n) {
              return Value(n.attribute() ? n.attribute().value() : n.node().text().get());
            };
            if (found.size() == 1) {
              child.set(name, text(found.first()));
            } else if (found.size() > 1) {
              Array texts;
              for (const auto& n : found) texts.push_back(text(n));
              child.set(name, std::move(texts));
            }
            break;
          }
          case pugi::xpath_type_number: child.set(name, xpath_number(query->evaluate_number(node))); break;
          case pugi::xpath_type_boolean: child.set(name, query->evaluate_boolean(node)); break;
          default: child.set(name, query->evaluate_string(node)); break;
        }
      }
    }
    children.push_back(std::move(child));
  }
  return children;
}

}  // namespace sluice::adapters
