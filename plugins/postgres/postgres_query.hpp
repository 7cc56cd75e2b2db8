// postgres_query — a source that polls a parameterised query on an interval, $1 being a cursor
// (change capture without triggers: `SELECT … WHERE id > $1 ORDER BY id LIMIT 500`): one
// packet per row, and the cursor, kept in the node's state directory, advanced past a row
// only once its stream is done and every row before it is too.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>

#include <sluice/component.hpp>

#include "pg_connection.hpp"

namespace sluice::postgres {

class PostgresQuery : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit PostgresQuery(const Params& params);
  void produce(SourceContext& ctx) override;

 private:
  void done(std::uint64_t row);

  Connection connection_;  // used on produce()'s thread only
  std::string query_, cursor_column_, cursor_start_;
  std::chrono::milliseconds interval_;
  std::filesystem::path cursor_file_;  // "" without a state directory (sluice run)

  // Rows sent and not yet passed by the cursor, oldest first; acks arrive on worker threads,
  // in any order.
  struct InFlight {
    std::string cursor;
    bool done = false;
  };
  std::mutex mutex_;
  std::deque<InFlight> in_flight_;
  std::uint64_t first_in_flight_ = 0;  // the number of in_flight_.front()
};

}  // namespace sluice::postgres
