#include <sluice/plugin.hpp>

#include "publishers.hpp"

using namespace sluice::publish;

SLUICE_PLUGIN("publish", "1.0.0", "Publishers: collect, counter, null, log, jsonl_file, csv_file, http",
              sluice::describe<Collect>(), sluice::describe<Counter>(), sluice::describe<Null>(),
              sluice::describe<Log>(), sluice::describe<JsonlFile>(), sluice::describe<CsvFile>(),
              sluice::describe<Http>())
