#include "sqlite_sink.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

#include <sluice/io.hpp>
#include <sluice/json.hpp>

#include "batched_receive.hpp"

namespace sluice::connectors {

namespace {

bool is_sql_identifier(const std::string& s) {
  return !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_') &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// `user.name` → `user_name`: a column name from a field path.
std::string column_name(const std::string& path) {
  std::string name;
  for (char c : path) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (!is_sql_identifier(name)) name = "_" + name;
  return name;
}

std::string joined(const std::vector<std::string>& items, const std::string& prefix = "") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + prefix + item;
  return out;
}

}  // namespace

ComponentDescriptor SqliteSink::descriptor() {
  return {.name = "sqlite_sink",
          .version = "1.0.0",
          .summary = "Writes packets into a SQLite table: batched transactions, upsert by key, FTS5 search",
          .kind = ComponentKind::publisher,
          .params = {{.name = "path",
                      .type = ParamType::string,
                      .description = "database file, inside the server's data directory; created with its "
                                     "directories when missing",
                      .required = true,
                      .file_path = true},
                     {.name = "table",
                      .type = ParamType::string,
                      .description = "table to write (created when missing); every row also keeps the whole "
                                     "packet as JSON in column `doc`",
                      .default_value = "documents"},
                     {.name = "columns",
                      .type = ParamType::string_list,
                      .description = "field paths, one column each (named after the path, `.` as `_`); "
                                     "strings and numbers as they are, other values as JSON",
                      .default_value = Array{}},
                     {.name = "key",
                      .type = ParamType::string,
                      .description = "field path of a unique key (a column is added for it): a packet with a "
                                     "key already in the table replaces that row; absent: every packet is a "
                                     "new row"},
                     {.name = "fts",
                      .type = ParamType::string_list,
                      .description = "field paths among `columns` indexed for full-text search in the FTS5 "
                                     "table <table>_fts, kept in step with the table",
                      .default_value = Array{}},
                     {.name = "batch_size",
                      .type = ParamType::integer,
                      .description = "packets per transaction at most",
                      .default_value = 500,
                      .minimum = 1},
                     {.name = "batch_ms",
                      .type = ParamType::integer,
                      .description = "longest wait for a batch to fill before it is committed",
                      .default_value = 50,
                      .minimum = 0}},
          .capabilities = {"fs_write"},
          .example = {.description = "Keeps the latest version of each article in a SQLite file, searchable by title and body",
                      .params = R"(path: articles.db
table: articles
columns: [id, title, body]
key: id
fts: [title, body])"}};
}

SqliteSink::SqliteSink(const Params& params)
    : path_(params.get_string("path")),
      table_(params.get_string("table")),
      batch_size_(static_cast<std::size_t>(params.get_int("batch_size"))),
      batch_wait_(params.get_int("batch_ms")) {
  if (!is_sql_identifier(table_))
    throw std::invalid_argument("param 'table': '" + table_ + "' is not a name (letters, digits, _)");
  std::vector<std::string> paths = params.get_string_list("columns");
  if (params.has("key")) {
    const std::string key_path = params.get_string("key");
    if (std::find(paths.begin(), paths.end(), key_path) == paths.end()) paths.insert(paths.begin(), key_path);
    key_ = column_name(key_path);
  }
  for (const auto& path : paths) {
    const std::string name = column_name(path);
    if (name == "doc" || name == "row_id")
      throw std::invalid_argument("param 'columns': '" + path + "' would be column '" + name +
                                  "', which sqlite_sink keeps for itself");
    for (const auto& other : columns_)
      if (other.name == name)
        throw std::invalid_argument("param 'columns': '" + other.path.text() + "' and '" + path + "' are both column '" +
                                    name + "'");
    columns_.push_back({FieldPath(path), name});
  }
  for (const auto& path : params.get_string_list("fts")) {
    if (std::find(paths.begin(), paths.end(), path) == paths.end())
      throw std::invalid_argument("param 'fts': '" + path + "' is not in 'columns'");
    fts_.push_back(column_name(path));
  }
  open_database();
}

SqliteSink::~SqliteSink() {
  sqlite3_finalize(insert_);
  sqlite3_close(db_);
}

void SqliteSink::execute(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string error = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    throw std::runtime_error(path_ + ": " + error);
  }
}

void SqliteSink::open_database() {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    throw std::runtime_error(path_ + ": cannot open: " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  // Every instance of the graph has its own connection: writers take turns, waiting for the lock.
  sqlite3_busy_timeout(db_, 10000);
  // WAL with synchronous=NORMAL: a commit is in the kernel once it returns (it survives the
  // process being killed) and is synced at checkpoints; readers never block the writer.
  execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");

  std::vector<std::string> names;
  for (const auto& c : columns_) names.push_back(c.name);
  std::string create = "CREATE TABLE IF NOT EXISTS " + table_ + " (row_id INTEGER PRIMARY KEY";
  for (const auto& c : columns_) create += ", " + c.name + (c.name == key_ ? " UNIQUE NOT NULL" : "");
  create += ", doc TEXT);";
  std::string schema = "BEGIN;" + create;
  if (!fts_.empty()) {
    // An external-content FTS5 table over the chosen columns, kept in step by triggers (the
    // recipe of SQLite's FTS5 documentation); an upsert is an UPDATE and fires the update one.
    const std::string fts = table_ + "_fts";
    const std::string cols = joined(fts_);
    schema += "CREATE VIRTUAL TABLE IF NOT EXISTS " + fts + " USING fts5(" + cols + ", content='" + table_ +
              "', content_rowid='row_id');";
    schema += "CREATE TRIGGER IF NOT EXISTS " + table_ + "_fts_insert AFTER INSERT ON " + table_ + " BEGIN INSERT INTO " +
              fts + "(rowid, " + cols + ") VALUES (new.row_id, " + joined(fts_, "new.") + "); END;";
    schema += "CREATE TRIGGER IF NOT EXISTS " + table_ + "_fts_delete AFTER DELETE ON " + table_ + " BEGIN INSERT INTO " +
              fts + "(" + fts + ", rowid, " + cols + ") VALUES ('delete', old.row_id, " + joined(fts_, "old.") + "); END;";
    schema += "CREATE TRIGGER IF NOT EXISTS " + table_ + "_fts_update AFTER UPDATE ON " + table_ + " BEGIN INSERT INTO " +
              fts + "(" + fts + ", rowid, " + cols + ") VALUES ('delete', old.row_id, " + joined(fts_, "old.") +
              "); INSERT INTO " + fts + "(rowid, " + cols + ") VALUES (new.row_id, " + joined(fts_, "new.") + "); END;";
  }
  execute(schema + "COMMIT;");

  std::string insert = "INSERT INTO " + table_ + " (";
  for (const auto& c : columns_) insert += c.name + ", ";
  insert += "doc) VALUES (";
  for (std::size_t i = 0; i <= columns_.size(); ++i) insert += i ? ", ?" : "?";
  insert += ")";
  if (!key_.empty()) {
    insert += " ON CONFLICT(" + key_ + ") DO UPDATE SET ";
    for (const auto& c : columns_)
      if (c.name != key_) insert += c.name + " = excluded." + c.name + ", ";
    insert += "doc = excluded.doc";
  }
  if (sqlite3_prepare_v2(db_, insert.c_str(), -1, &insert_, nullptr) != SQLITE_OK)
    throw std::runtime_error(path_ + ": table '" + table_ + "' does not fit the params (" + sqlite3_errmsg(db_) +
                             "); use another table or database");
}

void SqliteSink::write_batch(const std::vector<Packet>& batch) {
  execute("BEGIN IMMEDIATE;");
  try {
    for (const Packet& packet : batch) {
      sqlite3_reset(insert_);
      sqlite3_clear_bindings(insert_);
      int index = 1;
      for (const auto& c : columns_) {
        const Value* v = packet.find_path(c.path);
        if (!v || v->is_null())
          sqlite3_bind_null(insert_, index);
        else if (v->is_string())
          sqlite3_bind_text(insert_, index, v->as_string().data(), static_cast<int>(v->as_string().size()), SQLITE_TRANSIENT);
        else if (v->is_int())
          sqlite3_bind_int64(insert_, index, v->as_int());
        else if (v->is_double())
          sqlite3_bind_double(insert_, index, v->as_double());
        else if (v->is_bool())
          sqlite3_bind_int(insert_, index, v->as_bool() ? 1 : 0);
        else {
          const std::string text = json::to_string(*v);
          sqlite3_bind_text(insert_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        }
        ++index;
      }
      const std::string doc = json::to_string(packet);
      sqlite3_bind_text(insert_, index, doc.data(), static_cast<int>(doc.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(insert_) != SQLITE_DONE) throw std::runtime_error(path_ + ": " + sqlite3_errmsg(db_));
    }
    execute("COMMIT;");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
    throw;
  }
}

void SqliteSink::run(RunContext& ctx) {
  // Held packets complete (their streams may finish) only once their transaction committed.
  plugins::receive_in_batches(ctx, batch_size_, batch_wait_, [&](std::vector<Packet>& batch) {
    std::string error;
    io::run_blocking([&] {
      try {
        write_batch(batch);
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
    if (!error.empty())
      // One bad row fails its whole transaction: write them one by one to find it.
      for (Packet& packet : batch) {
        std::vector<Packet> one;
        one.push_back(std::move(packet));
        error.clear();
        io::run_blocking([&] {
          try {
            write_batch(one);
          } catch (const std::exception& e) {
            error = e.what();
          }
        });
        if (!error.empty()) ctx.fail(std::move(one.front()), error);
      }
  });
}

}  // namespace sluice::connectors
