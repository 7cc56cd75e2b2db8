// feed_adapter: an RSS 2.0, RSS 1.0 (RDF) or Atom feed → one packet per entry, as Pypes' RSS
// adapter made them: title, link, id, published, updated, author, summary, content,
// categories, and the feed's own title and link. pugixml reads it; dates are rewritten as
// date_normalize writes them (plugins/iso_dates.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "raw_adapter.hpp"

namespace sluice::documents {

class FeedAdapter : public plugins::Adapter {
 public:
  static ComponentDescriptor descriptor();
  explicit FeedAdapter(const Params& params);

 protected:
  std::vector<Packet> convert(std::string_view text) override;
  bool decodes_itself() const override { return true; }  // XML declares its encoding itself

 private:
  std::size_t max_entries_;
};

}  // namespace sluice::documents
