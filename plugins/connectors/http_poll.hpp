// http_poll — GETs a URL on an interval (the SDK's http::Client): each new body is one packet.
// Conditional requests (ETag, Last-Modified) make an unchanged resource cost a 304 and send
// nothing; the validators are kept in the node's state directory once the body's stream is
// done, so a restart neither loses a body nor sends an unchanged one again.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include <sluice/component.hpp>
#include <sluice/http_client.hpp>

namespace sluice::connectors {

class HttpPoll : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit HttpPoll(const Params& params);
  ~HttpPoll() override;
  void produce(SourceContext& ctx) override;

 private:
  // What the next request asks with: the last body's ETag and Last-Modified.
  struct Validators {
    std::string etag, last_modified;
  };
  // One GET; false when it failed (an error packet was sent, unless it repeats the last one).
  bool poll_once(SourceContext& ctx);
  void send_error(SourceContext& ctx, const std::string& message, std::string body);
  void save_validators(const Validators& validators, std::uint64_t body);

  std::string url_text_;
  http::Headers headers_;
  bool conditional_;
  std::chrono::milliseconds interval_, max_backoff_;
  std::unique_ptr<http::Client> client_;
  Validators asking_;        // produce()'s thread only
  std::string last_error_;   // of the failures in a row: told once
  std::uint64_t bodies_sent_ = 0;
  std::filesystem::path validators_file_;
  std::mutex mutex_;         // saving: done callbacks run on worker threads
  std::uint64_t saved_body_ = 0;
};

}  // namespace sluice::connectors
