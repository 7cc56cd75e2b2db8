// The codec's limit for tools/bench/run: NDJSON in, NDJSON out, with nothing between — each
// record parsed by the SDK (json::for_each_ndjson, simdjson on-demand underneath) into a packet
// and written back by the SDK writer, on one thread. No tool that keeps the data as packets can
// beat this; `sluice run` adds the graph and its threads to it.
//
//   bench_ndjson_copy IN.ndjson OUT.ndjson
//
// It prints `records N` on stderr.
#include <cstdio>
#include <cstring>
#include <string>

#include <sluice/json.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_ndjson_copy IN.ndjson OUT.ndjson\n");
    return 2;
  }
  std::FILE* in = std::fopen(argv[1], "rb");
  std::FILE* out = std::fopen(argv[2], "wb");
  if (!in || !out) {
    std::fprintf(stderr, "bench_ndjson_copy: %s\n", std::strerror(errno));
    return 1;
  }
  // Read in blocks, each cut after its last newline; the rest begins the next block.
  constexpr std::size_t block = 4 << 20;
  std::string buffer, written;
  std::size_t records = 0;
  for (;;) {
    const std::size_t kept = buffer.size();
    buffer.resize(kept + block);
    const std::size_t got = std::fread(buffer.data() + kept, 1, block, in);
    buffer.resize(kept + got);
    const std::size_t cut = got == 0 ? buffer.size() : buffer.rfind('\n') + 1;
    if (cut == 0 && got != 0) continue;  // a line longer than a block: read more
    written.clear();
    sluice::json::for_each_ndjson(std::string_view(buffer).substr(0, cut), [&](sluice::Value&& record, std::size_t) {
      sluice::json::write_fields(sluice::json::to_packet(std::move(record)), written);
      written += '\n';
      ++records;
    });
    std::fwrite(written.data(), 1, written.size(), out);
    buffer.erase(0, cut);
    if (got == 0) break;
  }
  std::fclose(in);
  if (std::fclose(out) != 0) {
    std::fprintf(stderr, "bench_ndjson_copy: %s: %s\n", argv[2], std::strerror(errno));
    return 1;
  }
  std::fprintf(stderr, "records %zu\n", records);
  return 0;
}
