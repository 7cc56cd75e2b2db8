// file_tail — follows growing files (a path, or a glob in its file name) through rotation:
// one packet per line, or per chunk read. A file's offset goes to the node's state directory
// only once every stream before it is done, so a crash replays from the last acked line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <sluice/component.hpp>

namespace sluice::connectors {

class FileTail : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit FileTail(const Params& params);
  ~FileTail() override;
  void produce(SourceContext& ctx) override;

  // A file is known by its inode: after a rename it is the same file under another name.
  struct FileId {
    dev_t device = 0;
    ino_t inode = 0;
    auto operator<=>(const FileId&) const = default;
  };

 private:
  struct Progress;
  struct OpenFile;

  void scan(SourceContext& ctx, bool first_scan);
  void read_new(SourceContext& ctx, OpenFile& file);
  void send_lines(SourceContext& ctx, OpenFile& file, std::string_view bytes);
  bool send(SourceContext& ctx, OpenFile& file, std::vector<Packet>&& packets, std::uint64_t acked_offset);
  void close_file(SourceContext& ctx, OpenFile& file);
  void load_offsets();
  void acked(const std::shared_ptr<Progress>& progress, std::uint64_t stream);
  void save_offsets();  // with mutex_ held

  std::filesystem::path directory_;  // where the pattern's files are (watched)
  std::string pattern_;              // a file name, or a glob of one
  bool start_at_end_, chunks_;
  std::size_t max_line_bytes_;
  std::filesystem::path offsets_file_;

  std::map<FileId, std::unique_ptr<OpenFile>> open_;  // produce()'s thread only
  std::mutex mutex_;  // what follows: acks run on worker threads
  std::map<FileId, std::shared_ptr<Progress>> progress_;
  struct Saved {
    std::string path;
    std::uint64_t offset;
  };
  std::map<FileId, Saved> saved_;  // read at start: where each file was acked up to
};

}  // namespace sluice::connectors
