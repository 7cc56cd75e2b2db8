// http: POSTs each packet as JSON to a URL, with timeout and retries.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <sluice/component.hpp>
#include <sluice/http_client.hpp>

namespace sluice::publish {

class Http : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Http(const Params& params);
  ~Http() override;
  void process(Packet& packet, Emitter& emit) override;

 private:
  // The exchange with retries and backoff; throws the failure for the dead letter.
  void send(const std::string& body);

  std::unique_ptr<http::Client> client_;  // one connection, kept alive between packets
  std::string method_;
  http::Headers headers_;
  int retries_;
  std::chrono::milliseconds backoff_;
  bool envelope_;
  std::string body_;
};

}  // namespace sluice::publish
