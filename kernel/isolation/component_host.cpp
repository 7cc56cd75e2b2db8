#include "isolation/component_host.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include <sluice/component.hpp>
#include <sluice/json.hpp>

#include "isolation/host_channel.hpp"
#include "registry/plugin_package.hpp"

namespace sluice {

namespace {

class HostRunContext final : public RunContext {
 public:
  HostRunContext(HostChannel& channel, const ComponentDescriptor& descriptor, std::string node_path)
      : channel_(channel), descriptor_(descriptor), node_path_(std::move(node_path)) {}

  ReceiveStatus receive(Received& into, Clock::time_point deadline) override {
    std::string payload;
    put_i64(payload, deadline == Clock::time_point::max()
                         ? std::numeric_limits<std::int64_t>::max()
                         : std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count());
    send(HostFrame::want, payload);
    Frame frame;
    if (channel_.next(frame, Clock::time_point::max()) != HostChannel::ReadStatus::data) kernel_gone();
    switch (frame.type) {
      case HostFrame::packet: {
        std::string_view rest = frame.payload;
        std::uint32_t port = 0;
        if (!get_u32(rest, port)) kernel_gone();
        into.in_port = port;
        into.packet = json::parse_envelope(rest);
        return ReceiveStatus::packet;
      }
      case HostFrame::timeout:
        return ReceiveStatus::timeout;
      case HostFrame::closed:
        return ReceiveStatus::closed;
      default:
        kernel_gone();
    }
  }

  void emit(std::size_t out_port, Packet&& packet) override {
    if (out_port > descriptor_.outputs.size())  // outputs.size() is the implicit `error` port
      throw std::invalid_argument(node_path_ + ": no out port #" + std::to_string(out_port));
    std::string payload;
    put_u32(payload, static_cast<std::uint32_t>(out_port));
    json::write_envelope(packet, payload);
    send(HostFrame::emit, payload);
  }

  std::size_t out_port_index(std::string_view name) const override {
    const auto& outs = descriptor_.outputs;
    for (std::size_t i = 0; i < outs.size(); ++i)
      if (outs[i].name == name) return i;
    if (name == error_port) return outs.size();
    throw std::invalid_argument(node_path_ + ": no out port '" + std::string(name) + "'");
  }

  std::size_t in_port_index(std::string_view name) const override {
    const auto& ins = descriptor_.inputs;
    for (std::size_t i = 0; i < ins.size(); ++i)
      if (ins[i].name == name) return i;
    throw std::invalid_argument(node_path_ + ": no in port '" + std::string(name) + "'");
  }

  void deliver(Packet&& result) override {
    std::string payload;
    json::write_envelope(result, payload);
    send(HostFrame::deliver, payload);
  }

  void fail(Packet&& packet, std::string_view message) override {
    std::string payload;
    put_u32(payload, static_cast<std::uint32_t>(message.size()));
    payload += message;
    json::write_envelope(packet, payload);
    send(HostFrame::fail, payload);
  }

  Clock::time_point now() const override { return Clock::now(); }
  const std::string& node_path() const override { return node_path_; }
  void hold() override { send(HostFrame::hold); }
  void release_held() override { send(HostFrame::release_held); }

  void send(HostFrame type, std::string_view payload = {}) {
    if (!channel_.send(type, payload)) kernel_gone();
  }

  // The kernel closed its end (undeploy, shutdown, or it died): nobody is left to answer.
  [[noreturn]] static void kernel_gone() { ::_exit(0); }

 private:
  HostChannel& channel_;
  const ComponentDescriptor& descriptor_;
  std::string node_path_;
};

}  // namespace

int run_component_host(const ComponentHostOptions& options) {
  // A host never outlives its kernel, however the kernel ends.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  HostChannel channel(options.fd);
  Frame init;
  if (channel.next(init, Clock::time_point::max()) != HostChannel::ReadStatus::data || init.type != HostFrame::init)
    return 2;
  std::string error;
  const auto package = load_plugin_package(options.file, options.image, error);
  const ComponentDescriptor* descriptor = nullptr;
  if (package)
    for (const auto& offered : package->components)
      if (offered.name == options.component) descriptor = &offered;
  if (package && !descriptor) error = "the package no longer offers " + options.component;
  std::unique_ptr<Component> component;
  if (descriptor) {
    try {
      const Value document = json::parse(init.payload);
      const Value* params = document.get("params");
      component = descriptor->create(Params(params && params->is_object() ? params->as_object() : Object()), error);
    } catch (const std::exception& e) {
      error = std::string("bad init frame: ") + e.what();
    }
  }
  if (!component) {
    channel.send(HostFrame::failed_to_start, error);
    return 1;
  }
  if (!channel.send(HostFrame::ready)) return 0;
  HostRunContext context(channel, *descriptor, options.node_path);
  try {
    component->run(context);
  } catch (const std::exception& e) {
    context.send(HostFrame::run_threw, e.what());
    ::_exit(0);
  }
  component.reset();
  context.send(HostFrame::end);
  ::_exit(0);  // no static destructors of the kernel's or the plugin's after the conversation
}

}  // namespace sluice
