#include <sluice/plugin.hpp>

#include "postgres_query.hpp"
#include "postgres_sink.hpp"

using namespace sluice::postgres;

SLUICE_PLUGIN("postgres", "1.0.0", "PostgreSQL through libpq: postgres_sink, postgres_query",
              sluice::describe<PostgresSink>(), sluice::describe<PostgresQuery>())
