#include <sluice/plugin.hpp>

#include "adapters.hpp"

using namespace sluice::adapters;

SLUICE_PLUGIN("adapters", "1.0.0", "Adapters from raw bytes: JSON, NDJSON, CSV, text, XML, HTML",
              sluice::describe<JsonAdapter>(), sluice::describe<NdjsonAdapter>(),
              sluice::describe<CsvAdapter>(), sluice::describe<TextAdapter>(),
              sluice::describe<XmlAdapter>(), sluice::describe<HtmlAdapter>())
