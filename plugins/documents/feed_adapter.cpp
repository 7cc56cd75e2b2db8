#include "feed_adapter.hpp"

#include <pugixml.hpp>

#include <stdexcept>

#include "document_fields.hpp"
#include "iso_dates.hpp"
#include "xml_parse.hpp"

namespace sluice::documents {

namespace {

constexpr std::string_view atom_ns = "http://www.w3.org/2005/Atom";
constexpr std::string_view rss1_ns = "http://purl.org/rss/1.0/";
constexpr std::string_view dc_ns = "http://purl.org/dc/elements/1.1/";
constexpr std::string_view content_ns = "http://purl.org/rss/1.0/modules/content/";

std::string_view local_name(const pugi::xml_node& node) {
  const std::string_view name = node.name();
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The namespace URI of an element, from the xmlns declarations in scope ("" for none): feeds
// bind Dublin Core, content and Atom to whatever prefix they like.
std::string_view namespace_of(const pugi::xml_node& element) {
  const std::string_view name = element.name();
  const auto colon = name.find(':');
  const std::string attribute =
      colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
  for (pugi::xml_node scope = element; scope.type() == pugi::node_element; scope = scope.parent())
    if (const pugi::xml_attribute declared = scope.attribute(attribute.c_str())) return declared.value();
  return {};
}

bool is(const pugi::xml_node& element, std::string_view ns, std::string_view local) {
  return element.type() == pugi::node_element && local_name(element) == local && namespace_of(element) == ns;
}

// All the text under an element, in document order (Atom's xhtml content is markup, and
// text beside CDATA sections is one value), without the blank space around it.
std::string text_of(const pugi::xml_node& element) {
  struct Text : pugi::xml_tree_walker {
    std::string text;
    bool for_each(pugi::xml_node& node) override {
      if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) text += node.value();
      return true;
    }
  } walk;
  pugi::xml_node root = element;
  root.traverse(walk);
  return trim_text(walk.text);
}

// A date as date_normalize writes it, or as written when no format reads it.
void set_date(Packet& entry, std::string_view field, const pugi::xml_node& element) {
  std::string written = text_of(element);
  if (written.empty()) return;
  entry.set(field, plugins::iso8601_utc(written).value_or(std::move(written)));
}

void add_category(Packet& entry, std::string category) {
  if (category.empty()) return;
  if (!entry.has("categories")) entry.set("categories", Array{});
  entry.get("categories")->as_array().push_back(std::move(category));
}

// Elements RSS 2.0 and 1.0 share, with the Dublin Core and content modules.
Packet rss_entry(const pugi::xml_node& item, std::string_view item_ns) {
  Packet entry;
  for (const pugi::xml_node& child : item.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = local_name(child);
    const std::string_view ns = namespace_of(child);
    if (ns == item_ns) {
      if (name == "title") set_text_unless_empty(entry, "title", text_of(child));
      else if (name == "link") set_text_unless_empty(entry, "link", text_of(child));
      else if (name == "guid") set_text_unless_empty(entry, "id", text_of(child));
      else if (name == "description") set_text_unless_empty(entry, "summary", text_of(child));
      else if (name == "author") set_text_unless_empty(entry, "author", text_of(child));
      else if (name == "pubDate") set_date(entry, "published", child);
      else if (name == "category") add_category(entry, text_of(child));
    } else if (ns == dc_ns) {
      if (name == "creator" && !entry.has("author")) set_text_unless_empty(entry, "author", text_of(child));
      else if (name == "date" && !entry.has("published")) set_date(entry, "published", child);
      else if (name == "subject") add_category(entry, text_of(child));
    } else if (ns == content_ns && name == "encoded") {
      set_text_unless_empty(entry, "content", text_of(child));
    } else if (ns == atom_ns && name == "updated") {
      set_date(entry, "updated", child);
    }
  }
  // RSS 1.0 names an item by its rdf:about; a guid is optional in RSS 2.0.
  if (!entry.has("id")) set_text_unless_empty(entry, "id", item.attribute("rdf:about").value());
  return entry;
}

// The link a reader follows: rel="alternate", which is also what a link without rel means.
std::string atom_link(const pugi::xml_node& parent) {
  for (const pugi::xml_node& link : parent.children())
    if (is(link, atom_ns, "link")) {
      const std::string_view rel = link.attribute("rel").value();
      if (rel.empty() || rel == "alternate") return link.attribute("href").value();
    }
  return {};
}

Packet atom_entry(const pugi::xml_node& element) {
  Packet entry;
  for (const pugi::xml_node& child : element.children()) {
    if (child.type() != pugi::node_element || namespace_of(child) != atom_ns) continue;
    const std::string_view name = local_name(child);
    if (name == "title") set_text_unless_empty(entry, "title", text_of(child));
    else if (name == "id") set_text_unless_empty(entry, "id", text_of(child));
    else if (name == "published") set_date(entry, "published", child);
    else if (name == "updated") set_date(entry, "updated", child);
    else if (name == "summary") set_text_unless_empty(entry, "summary", text_of(child));
    else if (name == "content") set_text_unless_empty(entry, "content", text_of(child));
    else if (name == "category") add_category(entry, child.attribute("term").value());
    else if (name == "author" && !entry.has("author"))
      for (const pugi::xml_node& part : child.children())
        if (is(part, atom_ns, "name")) set_text_unless_empty(entry, "author", text_of(part));
  }
  set_text_unless_empty(entry, "link", atom_link(element));
  return entry;
}

}  // namespace

ComponentDescriptor FeedAdapter::descriptor() {
  return adapter_descriptor(
      "feed_adapter",
      "Reads an RSS 2.0, RSS 1.0 or Atom feed: one packet per entry with title, link, id, "
      "published, updated (ISO 8601 UTC), author, summary, content, categories, feed_title, "
      "feed_link",
      {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"},
      {{.name = "max_entries",
        .type = ParamType::integer,
        .description = "a feed with more entries fails (to the error port)",
        .default_value = 10000,
        .minimum = 1}},
      ComponentExample{.description = "A packet per item of an RSS feed",
                       .input = R"(<rss version="2.0"><channel><title>News</title><link>https://example.org/</link><item><title>First</title><link>https://example.org/1</link><guid>1</guid><pubDate>Fri, 01 Mar 2024 12:00:00 GMT</pubDate></item></channel></rss>)",
                       .content_type = "application/rss+xml",
                       .output = R"({"title": "First", "link": "https://example.org/1", "id": "1", "published": "2024-03-01T12:00:00Z", "feed_title": "News", "feed_link": "https://example.org/"})"});
}

FeedAdapter::FeedAdapter(const Params& params)
    : Adapter(params), max_entries_(static_cast<std::size_t>(params.get_int("max_entries"))) {}

std::vector<Packet> FeedAdapter::convert(std::string_view text) {
  pugi::xml_document document;
  plugins::load_xml(document, text, "feed XML");
  const pugi::xml_node root = document.document_element();
  std::string feed_title, feed_link;
  std::vector<Packet> entries;
  auto take = [&](Packet&& entry) {
    if (entries.size() == max_entries_)
      throw std::runtime_error("feed has more than max_entries (" + std::to_string(max_entries_) + ") entries");
    entries.push_back(std::move(entry));
  };
  if (is(root, atom_ns, "feed")) {
    for (const pugi::xml_node& child : root.children()) {
      if (is(child, atom_ns, "title")) feed_title = text_of(child);
      else if (is(child, atom_ns, "entry")) take(atom_entry(child));
    }
    feed_link = atom_link(root);
  } else if (is(root, "", "rss")) {
    const pugi::xml_node channel = root.child("channel");
    feed_title = text_of(channel.child("title"));
    feed_link = text_of(channel.child("link"));
    for (const pugi::xml_node& item : channel.children("item")) take(rss_entry(item, ""));
  } else if (local_name(root) == "RDF") {  // RSS 1.0: items beside the channel
    for (const pugi::xml_node& child : root.children()) {
      if (is(child, rss1_ns, "channel")) {
        for (const pugi::xml_node& part : child.children()) {
          if (is(part, rss1_ns, "title")) feed_title = text_of(part);
          else if (is(part, rss1_ns, "link")) feed_link = text_of(part);
        }
      } else if (is(child, rss1_ns, "item")) {
        take(rss_entry(child, rss1_ns));
      }
    }
  } else {
    throw std::runtime_error("not an RSS or Atom feed: the root element is <" + std::string(root.name()) + ">");
  }
  for (Packet& entry : entries) {
    set_text_unless_empty(entry, "feed_title", feed_title);
    set_text_unless_empty(entry, "feed_link", feed_link);
  }
  return entries;
}

}  // namespace sluice::documents
