#include "stderr_writer.hpp"

#include <unistd.h>

#include <cerrno>

namespace sluice::publish {

void write_stderr(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a broken stderr
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace sluice::publish
