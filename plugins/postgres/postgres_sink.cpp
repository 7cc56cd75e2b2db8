#include "postgres_sink.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>
#include <thread>

#include <sluice/io.hpp>
#include <sluice/json.hpp>

#include "batched_receive.hpp"

namespace sluice::postgres {

namespace {

// `user.name` → `user_name`: a column name from a field path.
std::string column_name(const std::string& path) {
  std::string name;
  for (char c : path) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "_" + name;
  return name;
}

// A value as the text of a parameter: strings as they are, a json/jsonb column's values and
// anything that is not a string as JSON; absent or null as SQL NULL.
std::optional<std::string> parameter_text(const Value* value, bool json_column) {
  if (!value || value->is_null()) return std::nullopt;
  if (value->is_string() && !json_column) return value->as_string();
  return json::to_string(*value);
}

bool is_json_type(const std::string& type) { return type == "json" || type == "jsonb"; }

// The largest number of parameters one statement may have (the protocol's 16-bit count).
constexpr std::size_t max_parameters = 65535;

}  // namespace

ComponentDescriptor PostgresSink::descriptor() {
  std::vector<ParamSpec> params = connection_params();
  std::vector<ParamSpec> own = {
      {.name = "table",
       .type = ParamType::string,
       .description = "table to write, `name` or `schema.name` (created with text columns when missing and "
                      "`create_table` is true)",
       .required = true},
      {.name = "columns",
       .type = ParamType::any,
       .description = "the row: a list of field paths (each the column named after it, `.` as `_`) or an object "
                      "{column: field path}; values are cast to the column's type, objects and arrays as JSON",
       .required = true},
      {.name = "key",
       .type = ParamType::string,
       .description = "the unique key: a column of `columns`, or a field path (then a column is added for it); a "
                      "row with a key already in the table is updated (ON CONFLICT … DO UPDATE); absent: every "
                      "packet is a new row"},
      {.name = "create_table",
       .type = ParamType::boolean,
       .description = "create the table when it is missing (text columns, the key as primary key, the full-text "
                      "column with a GIN index); false: it must exist",
       .default_value = true},
      {.name = "fulltext",
       .type = ParamType::object,
       .description = "full-text mode: {field path: weight A|B|C|D}; the fields fill the tsvector column "
                      "`fulltext_column` as setweight(to_tsvector(…), weight) || …"},
      {.name = "fulltext_column",
       .type = ParamType::string,
       .description = "the tsvector column the full-text mode fills",
       .default_value = "search"},
      {.name = "fulltext_config",
       .type = ParamType::string,
       .description = "the text search configuration (stemming and stop words): english, simple, german, …",
       .default_value = "english"},
      {.name = "batch_size",
       .type = ParamType::integer,
       .description = "rows per INSERT at most",
       .default_value = 500,
       .minimum = 1},
      {.name = "batch_ms",
       .type = ParamType::integer,
       .description = "longest wait for a batch to fill before it is written",
       .default_value = 50,
       .minimum = 0}};
  params.insert(params.end(), own.begin(), own.end());
  return {.name = "postgres_sink",
          .version = "1.0.0",
          .summary = "Writes packets into a PostgreSQL table: batched INSERTs, upsert by key, weighted full-text column",
          .kind = ComponentKind::publisher,
          .params = std::move(params),
          .capabilities = {"fs_read", "net"},
          .example = {.description = "Upserts articles by id into PostgreSQL, titles weighted above bodies in a full-text column",
                      .params = R"(host: 127.0.0.1
dbname: news
user: sluice
password: "${env:PGPASSWORD}"
table: articles
columns: [id, title, body]
key: id
fulltext: { title: A, body: B })"}};
}

PostgresSink::PostgresSink(const Params& params)
    : connection_(params),
      table_(params.get_string("table")),
      create_table_(params.get_bool("create_table")),
      fulltext_column_(params.get_string("fulltext_column")),
      fulltext_config_(params.get_string("fulltext_config")),
      batch_size_(static_cast<std::size_t>(params.get_int("batch_size"))),
      batch_wait_(params.get_int("batch_ms")) {
  if (!is_identifier(table_))
    throw std::invalid_argument("param 'table': '" + table_ + "' is not a name or schema.name (letters, digits, _)");
  const Value& given = params.get("columns");
  auto add_column = [&](const std::string& name, const Value& path) {
    if (!path.is_string() || path.as_string().empty())
      throw std::invalid_argument("param 'columns': the field path of column '" + name + "' must be a string");
    if (!is_identifier(name) || name.find('.') != std::string::npos)
      throw std::invalid_argument("param 'columns': '" + name + "' is not a column name (letters, digits, _)");
    for (const auto& other : columns_)
      if (other.name == name) throw std::invalid_argument("param 'columns': column '" + name + "' is given twice");
    columns_.push_back({name, FieldPath(path.as_string()), ""});
  };
  if (given.is_array()) {
    for (const Value& path : given.as_array()) add_column(path.is_string() ? column_name(path.as_string()) : "?", path);
  } else if (given.is_object()) {
    for (const auto& [name, path] : given.as_object()) add_column(name, path);
  } else {
    throw std::invalid_argument(std::string("param 'columns': a list of field paths or an object {column: field path}, got ") +
                                given.type_name());
  }
  if (columns_.empty()) throw std::invalid_argument("param 'columns': no column given");
  if (params.has("key")) {
    const std::string key = params.get_string("key");
    auto named = std::find_if(columns_.begin(), columns_.end(), [&](const Column& c) { return c.name == key; });
    if (named == columns_.end())
      named = std::find_if(columns_.begin(), columns_.end(), [&](const Column& c) { return c.path.text() == key; });
    if (named == columns_.end()) {
      add_column(column_name(key), key);
      std::rotate(columns_.begin(), columns_.end() - 1, columns_.end());  // the key first, as it is written
      named = columns_.begin();
    }
    key_ = named->name;
    key_path_ = named->path;
  }
  if (params.has("fulltext")) {
    for (const auto& [path, weight] : params.get("fulltext").as_object()) {
      const std::string letter = weight.is_string() ? weight.as_string() : "";
      if (letter.size() != 1 || letter[0] < 'A' || letter[0] > 'D')
        throw std::invalid_argument("param 'fulltext': the weight of '" + path + "' must be \"A\", \"B\", \"C\" or \"D\"");
      fulltext_.push_back({FieldPath(path), letter[0]});
    }
    if (fulltext_.empty()) throw std::invalid_argument("param 'fulltext': no field given");
    if (!is_identifier(fulltext_column_) || fulltext_column_.find('.') != std::string::npos)
      throw std::invalid_argument("param 'fulltext_column': '" + fulltext_column_ + "' is not a column name");
    for (const auto& c : columns_)
      if (c.name == fulltext_column_)
        throw std::invalid_argument("param 'fulltext_column': '" + fulltext_column_ + "' is also in 'columns'");
    if (!is_identifier(fulltext_config_) || fulltext_config_.find('.') != std::string::npos)
      throw std::invalid_argument("param 'fulltext_config': '" + fulltext_config_ + "' is not a configuration name");
  }
  const std::size_t per_row = columns_.size() + fulltext_.size();
  if (batch_size_ * per_row > max_parameters)
    throw std::invalid_argument("param 'batch_size': " + std::to_string(batch_size_) + " rows of " +
                                std::to_string(per_row) + " values exceed the " + std::to_string(max_parameters) +
                                " parameters one statement may have; at most " + std::to_string(max_parameters / per_row));
}

Result PostgresSink::prepare_table() {
  if (create_table_) {
    // One implicit transaction (a multi-statement query), under a lock of the table's name:
    // the instances of a graph start at once, and concurrent CREATE … IF NOT EXISTS can clash.
    std::string sql = "SELECT pg_advisory_xact_lock(hashtext('sluice postgres_sink " + table_ + "'));";
    sql += "CREATE TABLE IF NOT EXISTS " + quoted(table_) + " (";
    for (const auto& c : columns_) sql += quoted(c.name) + (c.name == key_ ? " text PRIMARY KEY, " : " text, ");
    if (!fulltext_.empty()) sql += quoted(fulltext_column_) + " tsvector, ";
    sql.resize(sql.size() - 2);
    sql += ");";
    if (!fulltext_.empty()) {
      const std::string bare_table = table_.substr(table_.find('.') + 1);  // the index lives in the table's schema
      sql += "CREATE INDEX IF NOT EXISTS " + quoted(bare_table + "_" + fulltext_column_ + "_index") + " ON " +
             quoted(table_) + " USING GIN (" + quoted(fulltext_column_) + ");";
    }
    if (Result created = connection_.execute(sql); created.kind != Result::Kind::ok) return created;
  }
  Result described = connection_.execute(
      "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
      "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
      {quoted(table_)});
  if (described.kind != Result::Kind::ok) return described;
  auto type_of = [&](const std::string& name) -> std::optional<std::string> {
    for (int row = 0; row < PQntuples(described.rows.get()); ++row)
      if (name == PQgetvalue(described.rows.get(), row, 0)) return PQgetvalue(described.rows.get(), row, 1);
    return std::nullopt;
  };
  auto rejected = [](std::string message) { return Result{.kind = Result::Kind::rejected, .message = std::move(message)}; };
  for (auto& c : columns_) {
    const auto type = type_of(c.name);
    if (!type) return rejected("table " + table_ + " has no column '" + c.name + "' (for field " + c.path.text() + ")");
    c.type = *type;
  }
  if (!fulltext_.empty() && type_of(fulltext_column_) != "tsvector")
    return rejected("table " + table_ + " has no tsvector column '" + fulltext_column_ + "' (param fulltext_column)");
  return Result{};
}

Result PostgresSink::insert(const std::vector<Packet*>& rows) {
  std::string sql = "INSERT INTO " + quoted(table_) + " (";
  for (const auto& c : columns_) sql += quoted(c.name) + ", ";
  if (!fulltext_.empty()) sql += quoted(fulltext_column_) + ", ";
  sql.resize(sql.size() - 2);
  sql += ") VALUES ";
  std::vector<std::optional<std::string>> values;
  values.reserve(rows.size() * (columns_.size() + fulltext_.size()));
  for (const Packet* packet : rows) {
    sql += values.empty() ? "(" : ", (";
    for (const auto& c : columns_) {
      values.push_back(parameter_text(packet->find_path(c.path), is_json_type(c.type)));
      sql += "$" + std::to_string(values.size()) + "::" + c.type + ", ";
    }
    for (const auto& field : fulltext_) {
      values.push_back(parameter_text(packet->find_path(field.path), false));
      sql += "setweight(to_tsvector('" + fulltext_config_ + "', coalesce($" + std::to_string(values.size()) +
             ", '')), '" + field.weight + "') || ";
    }
    sql.resize(sql.size() - (fulltext_.empty() ? 2 : 4));
    sql += ")";
  }
  if (!key_.empty()) {
    std::string updates;
    for (const auto& c : columns_)
      if (c.name != key_) updates += quoted(c.name) + " = EXCLUDED." + quoted(c.name) + ", ";
    if (!fulltext_.empty()) updates += quoted(fulltext_column_) + " = EXCLUDED." + quoted(fulltext_column_) + ", ";
    if (updates.empty()) {
      sql += " ON CONFLICT (" + quoted(key_) + ") DO NOTHING";
    } else {
      updates.resize(updates.size() - 2);
      sql += " ON CONFLICT (" + quoted(key_) + ") DO UPDATE SET " + updates;
    }
  }
  return connection_.execute(sql, values);
}

Result PostgresSink::insert_until_answered(const std::vector<Packet*>& rows) {
  Backoff backoff;
  bool reported = false;
  for (;;) {
    Result result;
    if (std::string error; !connection_.connect(error)) {
      result = {.kind = Result::Kind::unavailable, .message = error};
    } else {
      if (!table_ready_) result = prepare_table();
      table_ready_ = result.kind == Result::Kind::ok;
      if (table_ready_) result = insert(rows);
    }
    if (result.kind != Result::Kind::unavailable) {
      if (reported) NodeLog(node_path_).info(connection_.address() + ": written again");
      return result;
    }
    // The rows stay held (their streams open) until the server takes them: a restart of the
    // server loses nothing. The statement may have committed before the connection broke;
    // the retry then upserts the same rows again (a second row without a `key`).
    table_ready_ = false;
    if (!reported) NodeLog(node_path_).warn(connection_.address() + ": " + result.message + "; retrying");
    reported = true;
    std::this_thread::sleep_for(backoff.next());
  }
}

void PostgresSink::write(RunContext& ctx, std::vector<Packet*> rows) {
  Result result;
  // On the I/O pool: the worker's other fibers run meanwhile, also while the server is away.
  io::run_blocking([&] { result = insert_until_answered(rows); });
  if (result.kind == Result::Kind::ok) return;
  if (rows.size() == 1) {
    ctx.fail(std::move(*rows.front()), connection_.address() + ": " + result.message);
    return;
  }
  // One bad row fails its whole statement: halve until it is alone, writing the rest.
  const auto middle = rows.begin() + static_cast<std::ptrdiff_t>(rows.size() / 2);
  write(ctx, std::vector<Packet*>(rows.begin(), middle));
  write(ctx, std::vector<Packet*>(middle, rows.end()));
}

void PostgresSink::run(RunContext& ctx) {
  node_path_ = ctx.node_path();
  // Held packets complete (their streams may finish) only once their INSERT committed.
  plugins::receive_in_batches(ctx, batch_size_, batch_wait_, [&](std::vector<Packet>& batch) {
    // One INSERT … ON CONFLICT cannot touch a row twice: a key seen again starts the next
    // statement. Each statement's rows go in key order, so that the graph's instances (one
    // per worker) lock the rows they share in the same order instead of deadlocking.
    std::map<std::string, Packet*> by_key;  // with a key: the statement's rows, in key order
    std::vector<Packet*> statement;
    auto write_statement = [&] {
      for (const auto& [key, packet] : by_key) statement.push_back(packet);
      if (!statement.empty()) write(ctx, statement);
      statement.clear();
      by_key.clear();
    };
    for (Packet& packet : batch) {
      if (key_.empty()) {
        statement.push_back(&packet);
        continue;
      }
      const std::string key = parameter_text(packet.find_path(key_path_), false).value_or("");
      if (by_key.count(key)) write_statement();
      by_key.emplace(key, &packet);
    }
    write_statement();
  });
}

}  // namespace sluice::postgres
