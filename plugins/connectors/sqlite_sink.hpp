// sqlite_sink — writes packets into a SQLite table in batched transactions (WAL journal),
// upserting by a key, optionally indexing chosen columns with FTS5 for full-text search.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sluice/component.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::connectors {

class SqliteSink : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit SqliteSink(const Params& params);
  ~SqliteSink() override;
  void run(RunContext& ctx) override;

 private:
  struct Column {
    FieldPath path;    // in the packet
    std::string name;  // SQL column name
  };
  void open_database();
  void write_batch(const std::vector<Packet>& batch);
  void execute(const std::string& sql);

  std::string path_, table_;
  std::vector<Column> columns_;
  std::string key_;  // a column name, or "" (then every packet is a new row)
  std::vector<std::string> fts_;
  std::size_t batch_size_;
  std::chrono::milliseconds batch_wait_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

}  // namespace sluice::connectors
