#include "support/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace sluice {

void replace_file(const std::filesystem::path& file, std::string_view bytes, mode_t mode) {
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path temporary =
      file.parent_path() / ("." + file.filename().string() + "." + std::to_string(::getpid()) + "." +
                            std::to_string(counter.fetch_add(1)) + ".tmp");
  int fd = -1;
  auto fail = [&](const std::string& step) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    throw std::runtime_error("cannot " + step + ": " + std::generic_category().message(error));
  };
  fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) fail("create " + temporary.string());
  for (std::size_t written = 0; written < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      fail("write " + temporary.string());
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd) != 0) fail("flush " + temporary.string());
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) fail("write " + temporary.string());
  if (::rename(temporary.c_str(), file.c_str()) != 0) fail("rename " + temporary.string() + " to " + file.string());
}

std::string read_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot read " + path.string());
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), "cannot read " + path.string());
    }
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return bytes;
}

}  // namespace sluice
