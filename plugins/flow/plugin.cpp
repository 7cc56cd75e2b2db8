#include <sluice/plugin.hpp>

#include "flow.hpp"

using namespace sluice::flow;

SLUICE_PLUGIN("flow", "1.0.0",
              "Filters and operators: drop, keep, route, dedupe, sample, split, batch, unbatch, merge",
              sluice::describe<Drop>(), sluice::describe<Keep>(), sluice::describe<Route>(),
              sluice::describe<Dedupe>(), sluice::describe<Sample>(), sluice::describe<Split>(),
              sluice::describe<Batch>(), sluice::describe<Unbatch>(), sluice::describe<Merge>())
