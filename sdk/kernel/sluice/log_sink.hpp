// sluice/log_sink.hpp — the kernel's side of NodeLog. Not a public SDK header (not installed,
// not seen by components): only the kernel installs where components' lines go.
#pragma once

#include <string_view>

#include "sluice/log.hpp"

namespace sluice {

using LogSink = void (*)(LogLevel level, std::string_view node_path, std::string_view message);
using LogFilter = bool (*)(LogLevel level);
// Installs both (nullptr for either restores the default: every line to stderr).
void set_log_sink(LogSink sink, LogFilter filter);

}  // namespace sluice
