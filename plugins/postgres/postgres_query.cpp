#include "postgres_query.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sluice/json.hpp>

namespace sluice::postgres {

namespace fs = std::filesystem;

namespace {

// Type OIDs of pg_type (fixed for the built-in types).
constexpr Oid bool_oid = 16, int8_oid = 20, int2_oid = 21, int4_oid = 23, oid_oid = 26, json_oid = 114,
              float4_oid = 700, float8_oid = 701, timestamp_oid = 1114, timestamptz_oid = 1184, numeric_oid = 1700,
              jsonb_oid = 3802;

std::optional<std::int64_t> exact_integer(std::string_view text) {
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return number;
}

// A double only when it prints back as the same decimal: a numeric that a double would round
// (more digits than 17, a huge exponent) stays exact as text.
std::optional<double> exact_double(std::string_view text) {
  double number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(number)) return std::nullopt;
  char printed[32];
  const auto written = std::to_chars(printed, printed + sizeof printed, number);
  if (std::string_view(printed, static_cast<std::size_t>(written.ptr - printed)) != text) return std::nullopt;
  return number;
}

Value numeric_value(std::string text) {
  if (const auto dot = text.find('.'); dot != std::string::npos) {
    while (text.back() == '0') text.pop_back();  // numeric(10,2) prints 1.50: the same number as 1.5
    if (text.back() == '.') text.pop_back();
  }
  if (const auto integer = exact_integer(text)) return *integer;
  if (const auto number = exact_double(text)) return *number;
  return text;
}

// `2024-05-01 12:00:00.5+00` (DateStyle ISO, TimeZone UTC) → `2024-05-01T12:00:00.5Z`.
std::string iso_timestamp(std::string text) {
  if (text.size() > 10 && text[10] == ' ') text[10] = 'T';
  if (text.ends_with("+00")) text.replace(text.size() - 3, 3, "Z");
  return text;
}

Value field_value(const PGresult* rows, int row, int column) {
  if (PQgetisnull(rows, row, column)) return nullptr;
  const std::string text(PQgetvalue(rows, row, column), static_cast<std::size_t>(PQgetlength(rows, row, column)));
  switch (PQftype(rows, column)) {
    case bool_oid:
      return text == "t";
    case int2_oid:
    case int4_oid:
    case int8_oid:
    case oid_oid:
      return *exact_integer(text);
    case float4_oid:
    case float8_oid: {
      double number = 0;
      std::from_chars(text.data(), text.data() + text.size(), number);
      if (!std::isfinite(number)) return text;  // NaN, Infinity: JSON has no such numbers
      return number;
    }
    case numeric_oid:
      return numeric_value(text);
    case json_oid:
    case jsonb_oid:
      return json::parse(text);
    case timestamp_oid:
    case timestamptz_oid:
      return iso_timestamp(text);
    default:
      return text;
  }
}

}  // namespace

ComponentDescriptor PostgresQuery::descriptor() {
  std::vector<ParamSpec> params = connection_params();
  std::vector<ParamSpec> own = {
      {.name = "query",
       .type = ParamType::string,
       .description = "the query, $1 standing for the cursor, its rows in cursor order: e.g. `SELECT id, title FROM "
                      "docs WHERE id > $1 ORDER BY id LIMIT 500`",
       .required = true},
      {.name = "cursor_column",
       .type = ParamType::string,
       .description = "the result column that is the cursor: the next poll passes the last row's value as $1",
       .required = true},
      {.name = "cursor_start",
       .type = ParamType::string,
       .description = "$1 of the first poll, while the state directory holds no cursor yet",
       .default_value = "0"},
      {.name = "interval_ms",
       .type = ParamType::integer,
       .description = "wait after a poll that found no rows (one that found rows is followed at once)",
       .default_value = 1000,
       .minimum = 1}};
  params.insert(params.end(), own.begin(), own.end());
  return {.name = "postgres_query",
          .version = "1.0.0",
          .summary = "Polls a PostgreSQL query with a cursor column: one packet per new row (a source)",
          .kind = ComponentKind::source,
          .outputs = {{"out",
                       "one packet per row, its columns as fields: integers exact, numeric as a number (as text when "
                       "a double would round it), bool, json/jsonb as values, timestamps as ISO 8601 in UTC, NULL as "
                       "null, other types as PostgreSQL prints them"}},
          .params = std::move(params),
          .capabilities = {"fs_read", "net"},
          .example = {.description = "Sends each new row of a table, in id order, 500 at a time",
                      .params = R"(host: 127.0.0.1
dbname: news
user: sluice
password: "${env:PGPASSWORD}"
query: SELECT id, title FROM articles WHERE id > $1 ORDER BY id LIMIT 500
cursor_column: id)"}};
}

PostgresQuery::PostgresQuery(const Params& params)
    : connection_(params),
      query_(params.get_string("query")),
      cursor_column_(params.get_string("cursor_column")),
      cursor_start_(params.get_string("cursor_start")),
      interval_(params.get_int("interval_ms")) {
  if (query_.find("$1") == std::string::npos)
    throw std::invalid_argument("param 'query': it has no $1, the place of the cursor");
}

void PostgresQuery::done(std::uint64_t row) {
  std::lock_guard lock(mutex_);
  in_flight_[row - first_in_flight_].done = true;
  std::optional<std::string> passed;
  while (!in_flight_.empty() && in_flight_.front().done) {
    passed = std::move(in_flight_.front().cursor);
    in_flight_.pop_front();
    ++first_in_flight_;
  }
  if (!passed || cursor_file_.empty()) return;
  // A whole new file renamed over the old one: a crash leaves the old cursor or the new one.
  const fs::path written = cursor_file_.string() + ".new";
  std::ofstream(written, std::ios::trunc) << *passed;
  fs::rename(written, cursor_file_);
}

void PostgresQuery::produce(SourceContext& ctx) {
  std::string cursor = cursor_start_;
  if (!ctx.state_dir().empty()) {
    cursor_file_ = fs::path(ctx.state_dir()) / "cursor";
    if (fs::exists(cursor_file_)) {
      std::ifstream in(cursor_file_);
      std::stringstream text;
      text << in.rdbuf();
      cursor = text.str();
    }
  }
  Backoff backoff;
  bool reported = false;
  while (!ctx.stopping()) {
    Result result;
    if (std::string error; !connection_.connect(error))
      result = {.kind = Result::Kind::unavailable, .message = error};
    else
      result = connection_.execute(query_, {cursor});
    if (result.kind != Result::Kind::ok) {
      // A query the server rejects (its table not made yet) is tried again each interval, a
      // server that is away with backoff; the source stays deployed and says why once.
      if (!reported) ctx.log().warn(connection_.address() + ": " + result.message + "; retrying");
      reported = true;
      if (!ctx.sleep_until(ctx.now() + (result.kind == Result::Kind::unavailable ? backoff.next() : interval_))) return;
      continue;
    }
    if (reported) ctx.log().info(connection_.address() + ": answering again");
    reported = false;
    backoff.reset();
    const PGresult* rows = result.rows.get();
    const int cursor_at = PQfnumber(rows, ('"' + cursor_column_ + '"').c_str());
    if (cursor_at < 0)
      throw std::runtime_error(connection_.address() + ": the query's rows have no column '" + cursor_column_ +
                               "' (param cursor_column)");
    for (int row = 0; row < PQntuples(rows); ++row) {
      if (PQgetisnull(rows, row, cursor_at))
        throw std::runtime_error(connection_.address() + ": row " + std::to_string(row + 1) + " of a poll has a NULL '" +
                                 cursor_column_ + "' (param cursor_column): the cursor cannot pass it");
      Packet packet;
      for (int column = 0; column < PQnfields(rows); ++column)
        packet.set(PQfname(rows, column), field_value(rows, row, column));
      std::uint64_t number;
      {
        std::lock_guard lock(mutex_);
        number = first_in_flight_ + in_flight_.size();
        in_flight_.push_back({PQgetvalue(rows, row, cursor_at)});
      }
      std::vector<Packet> one;
      one.push_back(std::move(packet));
      if (!ctx.send(std::move(one), [this, number](const StreamOutcome&) { done(number); })) return;
      cursor = PQgetvalue(rows, row, cursor_at);
    }
    if (PQntuples(rows) == 0 && !ctx.sleep_until(ctx.now() + interval_)) return;
  }
}

}  // namespace sluice::postgres
