#include "html_adapter.hpp"

#include <gumbo.h>

#include <cctype>
#include <unordered_set>
#include <utility>

namespace sluice::adapters {

ComponentDescriptor HtmlAdapter::descriptor() {
  return adapter_descriptor("html_adapter",
                            "Parses an HTML page into title, visible text and links "
                            "[{href, text}]",
                            {"text/html", "application/xhtml+xml"}, {},
                            ComponentExample{.description = "A page's title, visible text and links",
                                             .input = R"(<html><head><title>Welcome</title><script>var x;</script></head><body><h1>Hello</h1><p>Read <a href="/docs">the docs</a>.</p></body></html>)",
                                             .content_type = "text/html",
                                             .output = R"({"title": "Welcome", "text": "Hello Read the docs.", "links": [{"href": "/docs", "text": "the docs"}]})"});
}

namespace {

bool invisible(GumboTag tag) {
  return tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_NOSCRIPT ||
         tag == GUMBO_TAG_TEMPLATE || tag == GUMBO_TAG_HEAD;
}

// Inline elements flow with the surrounding text; every other element separates words.
bool is_inline(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_A: case GUMBO_TAG_ABBR: case GUMBO_TAG_B: case GUMBO_TAG_BDI:
    case GUMBO_TAG_BDO: case GUMBO_TAG_CITE: case GUMBO_TAG_CODE: case GUMBO_TAG_DATA:
    case GUMBO_TAG_DFN: case GUMBO_TAG_EM: case GUMBO_TAG_I: case GUMBO_TAG_KBD:
    case GUMBO_TAG_MARK: case GUMBO_TAG_Q: case GUMBO_TAG_S: case GUMBO_TAG_SAMP:
    case GUMBO_TAG_SMALL: case GUMBO_TAG_SPAN: case GUMBO_TAG_STRONG: case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP: case GUMBO_TAG_TIME: case GUMBO_TAG_U: case GUMBO_TAG_VAR:
    case GUMBO_TAG_LABEL: case GUMBO_TAG_FONT:
      return true;
    default:
      return false;
  }
}

// Appends `text` to `out` with runs of whitespace collapsed to one space, and without soft
// hyphens (U+00AD, `&shy;`): they only mark where a browser may break a word.
void append_collapsed(std::string_view text, std::string& out) {
  static constexpr std::string_view soft_hyphen = "\u00ad";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (text.substr(i, soft_hyphen.size()) == soft_hyphen) {
      i += soft_hyphen.size() - 1;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
}

// The walks below keep their own stack of nodes: HTML may nest to any depth, and recursing once
// per level could take a fiber beyond its stack.

// Pushes an element's children so that they are taken in document order.
template <class Pending>
void push_children(const GumboNode* node, Pending& pending) {
  const GumboVector& children = node->v.element.children;
  for (unsigned i = children.length; i-- > 0;) pending.push_back({static_cast<const GumboNode*>(children.data[i])});
}

// Visible text of a subtree (block boundaries become spaces).
void collect_text(const GumboNode* root, std::string& out) {
  struct Step {
    const GumboNode* node;
    bool block_end = false;  // after a block's children: the space that ends it
  };
  auto space = [&] {
    if (!out.empty() && out.back() != ' ') out += ' ';
  };
  std::vector<Step> pending{{root}};
  while (!pending.empty()) {
    const Step step = pending.back();
    pending.pop_back();
    const GumboNode* node = step.node;
    if (step.block_end) {
      space();
    } else if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA) {
      append_collapsed(node->v.text.text, out);
    } else if ((node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) &&
               !invisible(node->v.element.tag)) {
      if (!is_inline(node->v.element.tag)) {
        space();
        pending.push_back({node, true});
      }
      push_children(node, pending);
    }
  }
}

void collect_page(const GumboNode* root, std::string& title, Array& links) {
  struct Step {
    const GumboNode* node;
  };
  std::vector<Step> pending{{root}};
  while (!pending.empty()) {
    const GumboNode* node = pending.back().node;
    pending.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT) continue;
    const GumboElement& element = node->v.element;
    if (element.tag == GUMBO_TAG_TITLE && title.empty()) {
      collect_text(node, title);
      title = std::string(sluice::text::trim(title));
    } else if (element.tag == GUMBO_TAG_A) {
      if (const GumboAttribute* href = gumbo_get_attribute(&element.attributes, "href")) {
        std::string text;
        collect_text(node, text);
        links.push_back(Object{{"href", href->value}, {"text", std::string(sluice::text::trim(text))}});
      }
    }
    push_children(node, pending);
  }
}

// Gumbo's memory, tracked so that the tree can be freed without gumbo_destroy_output, which
// recurses once per level of the tree.
class GumboAllocations {
 public:
  GumboAllocations() = default;
  GumboAllocations(const GumboAllocations&) = delete;
  GumboAllocations& operator=(const GumboAllocations&) = delete;
  ~GumboAllocations() {
    for (void* block : live_) std::free(block);
  }
  GumboOptions options() {
    GumboOptions options = kGumboDefaultOptions;
    options.allocator = &allocate;
    options.deallocator = &release;
    options.userdata = this;
    options.max_errors = 0;  // parse errors are not used: do not keep them
    return options;
  }

 private:
  static void* allocate(void* self, std::size_t size) {
    void* block = std::malloc(size);
    if (block) static_cast<GumboAllocations*>(self)->live_.insert(block);
    return block;
  }
  static void release(void* self, void* block) {
    if (!block) return;
    static_cast<GumboAllocations*>(self)->live_.erase(block);
    std::free(block);
  }
  std::unordered_set<void*> live_;
};

}  // namespace

std::vector<Packet> HtmlAdapter::convert(std::string_view text) {
  // Gumbo follows the HTML5 parsing algorithm: any input gives a tree, so there is no error.
  GumboAllocations allocations;  // frees the tree on the way out
  const GumboOptions options = allocations.options();
  const GumboOutput* output = gumbo_parse_with_options(&options, text.data(), text.size());
  std::string title;
  Array links;
  std::string body;
  collect_page(output->root, title, links);
  collect_text(output->root, body);
  Packet page;
  page.set("title", std::move(title));
  page.set("text", std::string(sluice::text::trim(body)));
  page.set("links", std::move(links));
  std::vector<Packet> children;
  children.push_back(std::move(page));
  return children;
}

}  // namespace sluice::adapters
