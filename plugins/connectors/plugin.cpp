#include <sluice/plugin.hpp>

#include "dir_source.hpp"
#include "file_tail.hpp"
#include "generate.hpp"
#include "http_poll.hpp"
#include "sqlite_sink.hpp"

using namespace sluice::connectors;

SLUICE_PLUGIN("connectors", "1.0.0", "Sources and sinks for outside systems: generate, dir_source, file_tail, http_poll, sqlite_sink",
              sluice::describe<Generate>(), sluice::describe<DirSource>(), sluice::describe<FileTail>(),
              sluice::describe<HttpPoll>(), sluice::describe<SqliteSink>())
