// The CSV, XML, HTML and text adapters on arbitrary bytes, the first byte choosing which:
// packets or errors (the harness catches what process() throws), never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include <sluice/harness.hpp>

#include "adapters.hpp"

namespace {

template <typename AdapterType>
void feed(const std::string& bytes, const char* mimetype) {
  auto harness = sluice::ComponentHarness::of<AdapterType>();
  sluice::Packet packet;
  packet.set("data", bytes);
  packet.set_meta("mimetype", mimetype);
  harness.push(std::move(packet));
  harness.close();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: feed<sluice::adapters::CsvAdapter>(bytes, "text/csv"); break;
    case 1: feed<sluice::adapters::XmlAdapter>(bytes, "application/xml"); break;
    case 2: feed<sluice::adapters::HtmlAdapter>(bytes, "text/html"); break;
    default: feed<sluice::adapters::TextAdapter>(bytes, "text/plain"); break;
  }
  return 0;
}
