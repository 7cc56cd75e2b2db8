#include <sluice/plugin.hpp>

#include "generate.hpp"
#include "sqlite_sink.hpp"

using namespace sluice::connectors;

SLUICE_PLUGIN("connectors", "1.0.0", "Sources and sinks for outside systems: generate, sqlite_sink",
              sluice::describe<Generate>(), sluice::describe<SqliteSink>())
