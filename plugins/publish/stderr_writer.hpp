// What counter and log write to stderr, one write(2) per message.
#pragma once

#include <string_view>

namespace sluice::publish {

// One write(2) per message, so that lines from several worker threads never interleave.
void write_stderr(std::string_view text);

}  // namespace sluice::publish
