// sluice/io.hpp — blocking work without stalling the worker.
//
//   void process(sluice::Packet& packet, sluice::Emitter& emit) override {
//     std::string body;
//     sluice::io::run_blocking([&] { body = slow_lookup(packet); });  // only this fiber waits
//     packet.set("lookup", body);
//     emit(std::move(packet));
//   }
//
// Inside the runtime, `work` runs on the I/O thread pool while the calling fiber is suspended
// and the worker runs other fibers. Outside it (tests, the harness) `work` runs inline.
// Exceptions thrown by `work` are rethrown in the caller.
#pragma once

#include <functional>

namespace sluice::io {

void run_blocking(const std::function<void()>& work);

}  // namespace sluice::io
