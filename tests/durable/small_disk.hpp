// A real full disk for the write-ahead log's tests: a tmpfs of a few pages mounted on a
// directory (the tests run as root, as CI does), filled to the last page by a filler file and
// given room again by removing it.
//
//   SmallDisk disk(dir.path / "var" / "wal", 256 << 10);
//   disk.fill();     // every further page refused: write(2) gives ENOSPC
//   disk.unfill();   // room again
#pragma once

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace rest_test {

class SmallDisk {
 public:
  SmallDisk(std::filesystem::path mount_point, std::size_t bytes) : path_(std::move(mount_point)) {
    std::filesystem::create_directories(path_);
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("sluice-test", path_.c_str(), "tmpfs", 0, options.c_str()) != 0)
      throw std::runtime_error("cannot mount a tmpfs on " + path_.string() + " (the disk-full tests need root): " +
                               std::strerror(errno));
  }
  ~SmallDisk() { ::umount2(path_.c_str(), MNT_DETACH); }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes a filler file until the disk refuses: no free page is left.
  void fill() {
    const std::filesystem::path filler = path_ / "filler";
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot create " + filler.string());
    const std::string block(4096, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    const int error = errno;
    ::close(fd);
    if (error != ENOSPC) throw std::runtime_error("filling " + filler.string() + ": " + std::strerror(error));
  }
  void unfill() { std::filesystem::remove(path_ / "filler"); }

 private:
  std::filesystem::path path_;
};

}  // namespace rest_test
