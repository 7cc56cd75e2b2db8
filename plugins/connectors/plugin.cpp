#include <sluice/plugin.hpp>

#include "generate.hpp"

using namespace sluice::connectors;

SLUICE_PLUGIN("connectors", "1.0.0", "Sources and sinks for outside systems: generate",
              sluice::describe<Generate>())
