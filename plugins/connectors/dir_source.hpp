// dir_source — crawls a directory tree, then watches it (inotify): one raw packet per file,
// with a ledger in the node's state directory so that a restart does not send finished files
// again; optionally deletes or moves a file once its stream is done.
#pragma once

#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include <sluice/component.hpp>

namespace sluice::connectors {

class DirSource : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit DirSource(const Params& params);
  void produce(SourceContext& ctx) override;

 private:
  void send_file(SourceContext& ctx, const std::filesystem::path& file, void* magic);
  void done_with(const std::string& entry, const std::filesystem::path& file);

  std::filesystem::path root_;
  bool recursive_, watch_;
  std::string after_;  // keep, delete, move
  std::filesystem::path move_to_;
  std::filesystem::path ledger_file_;
  std::mutex mutex_;            // the sets and the ledger: acks run on worker threads
  std::set<std::string> done_;  // ledger entries: path|mtime|size
  std::set<std::string> in_flight_;
};

}  // namespace sluice::connectors
