// postgres_sink — writes packets as rows of a PostgreSQL table in batched multi-row INSERTs,
// upserting by a key, optionally filling a weighted tsvector column for full-text search; a
// packet's stream completes only once the INSERT holding its row has committed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sluice/component.hpp>

#include "pg_connection.hpp"

namespace sluice::postgres {

class PostgresSink : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit PostgresSink(const Params& params);
  void run(RunContext& ctx) override;

 private:
  struct Column {
    std::string name;  // SQL column
    FieldPath path;    // in the packet
    std::string type;  // the column's type in the table, read at each (re)connection
  };
  struct Weighted {
    FieldPath path;
    char weight;  // 'A' (highest) … 'D'
  };
  void write(RunContext& ctx, std::vector<Packet*> rows);
  Result insert_until_answered(const std::vector<Packet*>& rows);
  Result insert(const std::vector<Packet*>& rows);
  Result prepare_table();

  Connection connection_;
  std::string table_;
  std::vector<Column> columns_;
  std::string key_;  // a column name, or "" (then every packet is a new row)
  FieldPath key_path_;
  bool create_table_;
  std::vector<Weighted> fulltext_;
  std::string fulltext_column_, fulltext_config_;
  std::size_t batch_size_;
  std::chrono::milliseconds batch_wait_;
  bool table_ready_ = false;  // prepare_table() succeeded on this connection
  std::string node_path_;
};

}  // namespace sluice::postgres
