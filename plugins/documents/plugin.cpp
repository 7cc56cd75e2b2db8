#include <sluice/plugin.hpp>

#include "collate.hpp"
#include "feed_adapter.hpp"

using namespace sluice::documents;

SLUICE_PLUGIN("documents", "1.0.0", "RSS and Atom feeds, collate",
              sluice::describe<FeedAdapter>(), sluice::describe<Collate>())
