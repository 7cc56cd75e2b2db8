// {{cookiecutter.name}} — {{cookiecutter.summary}}.
// A sluice {{cookiecutter.kind}} by {{cookiecutter.author}}.
//
// descriptor() is what the kernel validates graph params against and what
// `sluice plugins describe {{cookiecutter.name}}`, GET /v1/components and the editor show: when you
// change what the component does, change its summary, ports and params there first.
#pragma once
{%- if cookiecutter.kind == 'transformer' %}

#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
{%- elif cookiecutter.kind == 'filter' %}

#include <functional>
#include <set>
#include <stdexcept>
#include <string>
{%- elif cookiecutter.kind == 'adapter' %}

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
{%- elif cookiecutter.kind == 'extractor' %}

#include <cctype>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
{%- elif cookiecutter.kind == 'publisher' %}

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
{%- elif cookiecutter.kind == 'source' %}

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <vector>
{%- else %}

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
{%- endif %}

#include <sluice/component.hpp>
{%- if cookiecutter.kind == 'publisher' or cookiecutter.kind == 'operator' %}
#include <sluice/json.hpp>
{%- endif %}

namespace {{cookiecutter.name}} {
{%- if cookiecutter.kind == 'transformer' %}

// Sets `into` to the number of whitespace-separated words in the text at `field`.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::transformer,
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "field path of the text to count, e.g. body or doc.text",
             .default_value = "text"},
            {.name = "into",
             .type = sluice::ParamType::string,
             .description = "field path that receives the count",
             .default_value = "words"},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Counts the words of a body",
                    .params = "field: body",
                    .input = R"({"body": "three little words"})",
                    .output = R"({"body": "three little words", "words": 3})"}};
  }

  // Runs once per graph instance, before any packet: expensive setup (loading a model,
  // compiling patterns) belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : field_(params.get_string("field")), into_(params.get_string("into")) {}

  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    // A packet without the text passes on unchanged, as the bundled transforms do: one graph
    // often carries packets of several shapes.
    if (const sluice::Value* text = packet.find_path(field_)) {
      // A throw sends this packet to the node's `error` port (or the graph's dead letters) with
      // the message in its metadata; the graph keeps running.
      if (!text->is_string())
        throw std::invalid_argument("field '" + field_ + "' is " + text->type_name() + ", not a string");
      if (!packet.set_path(into_, count_words(text->as_string())))
        throw std::invalid_argument("cannot set '" + into_ + "': a step of the path is not an object");
    }
    emit(std::move(packet));
  }

  static std::int64_t count_words(std::string_view text) {
    std::int64_t words = 0;
    bool in_word = false;
    for (const char c : text) {
      const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
      if (!space && !in_word) ++words;
      in_word = !space;
    }
    return words;
  }

 private:
  std::string field_;
  std::string into_;
};
{%- elif cookiecutter.kind == 'filter' %}

// Passes a packet when the value at `field` equals one of `values` (or, with `invert`, when it
// does not); drops the others.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::filter,
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "field path to look at, e.g. lang or user.country",
             .required = true},
            {.name = "values",
             .type = sluice::ParamType::string_list,
             .description = "a packet passes when its field equals one of these (numbers and "
                            "booleans compare as their JSON text, e.g. 42 or true)",
             .required = true},
            {.name = "invert",
             .type = sluice::ParamType::boolean,
             .description = "pass the packets that do not match instead",
             .default_value = false},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Passes English and German packets, drops the others",
                    .params = R"(field: lang
values: [en, de])",
                    .input = R"({"lang": "en", "text": "hello"}
{"lang": "fr", "text": "bonjour"})",
                    .output = R"({"lang": "en", "text": "hello"})"}};
  }

  // Runs once per graph instance, before any packet: expensive setup (loading a model,
  // compiling patterns) belongs here. A throw here fails the deploy with this message.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : field_(params.get_string("field")), invert_(params.get_bool("invert")) {
    for (auto& value : params.get_string_list("values")) values_.insert(std::move(value));
    if (values_.empty()) throw std::invalid_argument("param 'values' is empty: nothing could pass");
  }

  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    const sluice::Value* value = packet.find_path(field_);
    // A packet without the field matches no value.
    const bool matches = value && values_.contains(value->to_display_string());
    if (matches != invert_) emit(std::move(packet));
  }

 private:
  std::string field_;
  std::set<std::string, std::less<>> values_;
  bool invert_;
};
{%- elif cookiecutter.kind == 'adapter' %}

// Turns a raw text packet (a POST body, or `sluice run --content-type`: its bytes in field
// `data`, its type in the `mimetype` meta) into one packet per line: {"line": "...",
// "line_number": n}, with the raw packet's metadata. As every adapter does, it converts only
// the packets of its `mimetypes` and passes the others on unchanged by `unmatched`, where a
// graph can hand them to another adapter.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::adapter,
        .outputs = {
            {"out", "one packet per line: the line and its 1-based number"},
            {"unmatched", "packets of another (or no) mimetype, unchanged"},
        },
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "mimetypes",
             .type = sluice::ParamType::string_list,
             .description = "packets whose `mimetype` meta is one of these are split (`type/*` "
                            "matches a whole type; parameters such as charset are ignored); "
                            "others go to unmatched",
             .default_value = sluice::Array{"text/plain"}},
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "field holding the raw text",
             .default_value = "data"},
            {.name = "into",
             .type = sluice::ParamType::string,
             .description = "field of each output packet that receives the line",
             .default_value = "line"},
            {.name = "skip_blank",
             .type = sluice::ParamType::boolean,
             .description = "leave out lines that are empty or only whitespace",
             .default_value = true},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "A packet per line of a text, with its number; blank lines are left out",
                    .input = R"(first

second
)",
                    .content_type = "text/plain",
                    .output = R"({"line": "first", "line_number": 1}
{"line": "second", "line_number": 3})"}};
  }

  // Runs once per graph instance, before any packet: expensive setup belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : field_(params.get_string("field")),
        into_(params.get_string("into")),
        skip_blank_(params.get_bool("skip_blank")) {
    for (const std::string& mimetype : params.get_string_list("mimetypes"))
      mimetypes_.push_back(base_mimetype(mimetype));
  }

  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    if (!accepts(packet)) {
      emit("unmatched", std::move(packet));
      return;
    }
    // A body that is not UTF-8 arrives base64-encoded; bytes() gives it back as it was. It
    // throws when the field is missing or not text: a throw sends this packet to the node's
    // `error` port (or the graph's dead letters), and the graph keeps running.
    std::string scratch;
    std::string_view rest = packet.bytes(field_, scratch);
    std::int64_t number = 0;
    while (!rest.empty()) {
      const auto end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      ++number;
      if (line.ends_with('\r')) line.remove_suffix(1);
      if (skip_blank_ && line.find_first_not_of(" \t\f\v") == std::string_view::npos) continue;
      sluice::Packet out;
      out.set(into_, line);
      out.set("line_number", number);
      // Keeps where the line came from (stream, filename, ...) on every line.
      out.meta() = packet.meta();
      emit(std::move(out));
    }
  }

  // `Text/Plain; charset=utf-8` → `text/plain`.
  static std::string base_mimetype(std::string_view mimetype) {
    mimetype = mimetype.substr(0, mimetype.find(';'));
    std::string base;
    for (const char c : mimetype)
      if (!std::isspace(static_cast<unsigned char>(c)))
        base += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return base;
  }

 private:
  bool accepts(const sluice::Packet& packet) const {
    const sluice::Value* mimetype = packet.get_meta("mimetype");
    if (!mimetype || !mimetype->is_string()) return false;
    const std::string type = base_mimetype(mimetype->as_string());
    return std::any_of(mimetypes_.begin(), mimetypes_.end(), [&](const std::string& pattern) {
      return pattern == type || pattern == "*/*" ||
             (pattern.ends_with("/*") && type.starts_with(pattern.substr(0, pattern.size() - 1)));
    });
  }

  std::vector<std::string> mimetypes_;
  std::string field_;
  std::string into_;
  bool skip_blank_;
};
{%- elif cookiecutter.kind == 'extractor' %}

// Puts the distinct hashtags of the text at `field` into the list `into`, without the '#' and
// in the order they first appear: "#sluice is #fast, #sluice" → ["sluice", "fast"]. Like the
// bundled extractors (email, url, regex_extract), it adds what it finds and changes nothing
// else; a text without tags gets an empty list, a packet without the text passes unchanged.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::extractor,
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "field path of the text to search, e.g. body or doc.text",
             .default_value = "text"},
            {.name = "into",
             .type = sluice::ParamType::string,
             .description = "field path that receives the list of tags",
             .default_value = "hashtags"},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Collects the hashtags of a text, each once",
                    .input = R"({"text": "#sluice moves #data, #sluice"})",
                    .output = R"({"text": "#sluice moves #data, #sluice", "hashtags": ["sluice", "data"]})"}};
  }

  // Runs once per graph instance, before any packet: expensive setup (compiling patterns,
  // loading a word list) belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : field_(params.get_string("field")), into_(params.get_string("into")) {}

  void process(sluice::Packet& packet, sluice::Emitter& emit) override {
    if (const sluice::Value* text = packet.find_path(field_)) {
      // A throw sends this packet to the node's `error` port (or the graph's dead letters) with
      // the message in its metadata; the graph keeps running.
      if (!text->is_string())
        throw std::invalid_argument("field '" + field_ + "' is " + text->type_name() + ", not a string");
      sluice::Array tags;
      for (std::string& tag : hashtags(text->as_string())) tags.emplace_back(std::move(tag));
      if (!packet.set_path(into_, std::move(tags)))
        throw std::invalid_argument("cannot set '" + into_ + "': a step of the path is not an object");
    }
    emit(std::move(packet));
  }

  // A tag is a '#' and the letters, digits and '_' after it. The bytes of UTF-8 sequences
  // count as letters, so that "#café" stays whole; a '#' inside a word ("C#", "a#b") is none.
  static std::vector<std::string> hashtags(std::string_view text) {
    std::vector<std::string> tags;
    std::set<std::string, std::less<>> seen;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '#' || (i > 0 && in_tag(text[i - 1]))) continue;
      std::size_t end = i + 1;
      while (end < text.size() && in_tag(text[end])) ++end;
      const std::string_view tag = text.substr(i + 1, end - i - 1);
      if (!tag.empty() && seen.emplace(tag).second) tags.emplace_back(tag);
      i = end - 1;
    }
    return tags;
  }

 private:
  static bool in_tag(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return std::isalnum(byte) || byte == '_' || byte >= 0x80;
  }

  std::string field_;
  std::string into_;
};
{%- elif cookiecutter.kind == 'publisher' %}

// Appends each packet to a file: its fields as one JSON line, or only the text of `field`.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::publisher,
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "path",
             .type = sluice::ParamType::string,
             .description = "file to append to; it and its directories are created",
             .required = true},
            {.name = "field",
             .type = sluice::ParamType::string,
             .description = "write only this field's value as text; empty: the whole packet as JSON",
             .default_value = ""},
        },
        // write() may block on a slow disk: the runtime then calls process() on its I/O pool
        // so that the other components on this worker keep running.
        .blocking = true,
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Appends each packet to events.jsonl in the data directory",
                    .params = "path: events.jsonl"}};
  }

  // Runs once per graph instance, before any packet. A throw here fails the deploy with this
  // message, so a bad path is reported before any data flows.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : path_(params.get_string("path")), field_(params.get_string("field")) {
    const auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open '" + path_ + "'");
  }
  ~{{cookiecutter.class_name}}() override { ::close(fd_); }
  {{cookiecutter.class_name}}(const {{cookiecutter.class_name}}&) = delete;
  {{cookiecutter.class_name}}& operator=(const {{cookiecutter.class_name}}&) = delete;

  void process(sluice::Packet& packet, sluice::Emitter&) override {
    std::string line;
    if (field_.empty()) {
      sluice::json::write_fields(packet, line);
    } else if (const sluice::Value* value = packet.find_path(field_)) {
      line = value->to_display_string();
    } else {
      // A throw sends this packet to the node's `error` port (or the graph's dead letters).
      throw std::invalid_argument("field '" + field_ + "' is missing");
    }
    line += '\n';
    write_line(line);
  }

 private:
  // Every graph instance (one per worker) appends to the same file: one write() per line on
  // an O_APPEND descriptor keeps their lines whole instead of interleaving buffer pieces.
  void write_line(std::string_view line) {
    while (!line.empty()) {
      const ssize_t n = ::write(fd_, line.data(), line.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::system_error(errno, std::generic_category(), "cannot write '" + path_ + "'");
      line.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::string path_;
  std::string field_;
  int fd_ = -1;
};
{%- elif cookiecutter.kind == 'source' %}

// Sends `count` packets {"n": 1}, {"n": 2}, ... (0: no end), `batch` of them every
// `interval_ms`, each batch one stream. A source makes packets instead of receiving them: the
// outside system it reads (a queue, a file, a table) is where a crash replays from, so it tells
// that system it has taken the data only once the stream is done. Here the "upstream" is the
// number of the last batch done, kept in the node's state directory: after a restart the
// source goes on after it, sending again what was not done (at least once, never a gap).
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::source,
        .outputs = {
            {"out", "the packets made: {\"n\": number}"},
        },
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "count",
             .type = sluice::ParamType::integer,
             .description = "packets to send in all; 0: no end",
             .default_value = 10,
             .minimum = 0},
            {.name = "batch",
             .type = sluice::ParamType::integer,
             .description = "packets per stream",
             .default_value = 1,
             .minimum = 1},
            {.name = "interval_ms",
             .type = sluice::ParamType::integer,
             .description = "wait between batches",
             .default_value = 100,
             .minimum = 0},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Sends three packets as fast as the graph takes them, then stops",
                    .params = R"(count: 3
interval_ms: 0)",
                    .output = R"({"n": 1}
{"n": 2}
{"n": 3})"}};
  }

  // Runs once per deployed graph, before produce(): expensive setup (connecting) belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : count_(params.get_int("count")),
        batch_(params.get_int("batch")),
        interval_(params.get_int("interval_ms")) {}

  // Runs on a thread of its own from deploy until it returns or the graph is undeployed.
  void produce(sluice::SourceContext& ctx) override {
    if (!ctx.state_dir().empty()) {  // empty under `sluice run`: nothing survives it
      position_file_ = std::filesystem::path(ctx.state_dir()) / "position";
      std::ifstream(position_file_) >> done_up_to_;
    }
    for (std::int64_t batch = done_up_to_ + 1; count_ == 0 || (batch - 1) * batch_ < count_; ++batch) {
      std::vector<sluice::Packet> packets;
      for (std::int64_t n = (batch - 1) * batch_ + 1; n <= batch * batch_ && (count_ == 0 || n <= count_); ++n) {
        sluice::Packet packet;
        packet.set("n", n);
        packets.push_back(std::move(packet));
      }
      // Waits while the graph is full (backpressure): the source never runs ahead of its
      // slowest sink. False once the source is told to stop.
      if (!ctx.send(std::move(packets), [this, batch](const sluice::StreamOutcome&) { done(batch); })) return;
      if (!ctx.sleep_until(ctx.now() + interval_)) return;
    }
  }

 private:
  // Runs on a worker thread once the batch's stream is through the graph (its sinks durable).
  // Streams may finish out of order: the position moves only over batches all done.
  void done(std::int64_t batch) {
    std::lock_guard lock(mutex_);
    done_after_.insert(batch);
    while (done_after_.count(done_up_to_ + 1)) done_after_.erase(++done_up_to_);
    if (!position_file_.empty()) std::ofstream(position_file_, std::ios::trunc) << done_up_to_ << '\n';
  }

  std::int64_t count_, batch_;
  std::chrono::milliseconds interval_;
  std::filesystem::path position_file_;
  std::mutex mutex_;
  std::int64_t done_up_to_ = 0;        // every batch up to this one is done
  std::set<std::int64_t> done_after_;  // done batches beyond it
};
{%- else %}

// Pairs a packet from `left` with the first waiting packet from `right` that has the same key
// (and the other way round): {"key": k, "left": {...fields}, "right": {...fields}} leaves on
// `out`. Packets still waiting when the inputs close leave on `unpaired`.
class {{cookiecutter.class_name}} final : public sluice::Component {
 public:
  static sluice::ComponentDescriptor descriptor() {
    return {
        .name = "{{cookiecutter.name}}",
        .version = "{{cookiecutter.version}}",
        .summary = "{{cookiecutter.summary}}",
        .kind = sluice::ComponentKind::operator_,
        // Operators name their ports; graphs wire them as `node.left`, `node.unpaired`.
        .inputs = {
            {"left", "packets to pair; their fields go to left"},
            {"right", "packets to pair; their fields go to right"},
        },
        .outputs = {
            {"out", "one packet per pair: key, left and right"},
            {"unpaired", "packets that found no partner: still waiting when the inputs closed, "
                         "or over max_waiting"},
        },
        // Typed params: the kernel checks a graph's values against these before the graph
        // runs (unknown names get a did-you-mean), and fills in the defaults.
        .params = {
            {.name = "key",
             .type = sluice::ParamType::string,
             .description = "field path whose value pairs a left packet with a right one",
             .default_value = "id"},
            {.name = "max_waiting",
             .type = sluice::ParamType::integer,
             .description = "at most this many packets wait for a partner; more leave on "
                            "unpaired at once, so memory stays bounded",
             .default_value = 10000,
             .minimum = 1},
        },
        // Shown by `sluice plugins describe` and GET /v1/components: what it does, by example.
        .example = {.description = "Pairs orders with their payments by order id: wire the orders to example.left and the payments to example.right",
                    .params = "key: order"}};
  }

  // Runs once per graph instance, before any packet: expensive setup belongs here.
  explicit {{cookiecutter.class_name}}(const sluice::Params& params)
      : key_(params.get_string("key")),
        max_waiting_(static_cast<std::size_t>(params.get_int("max_waiting"))) {}

  // A join needs control over its inputs, so it implements run() (its own loop on its own
  // fiber) instead of process().
  void run(sluice::RunContext& ctx) override {
    const std::size_t left = ctx.in_port_index("left");
    const std::size_t unpaired = ctx.out_port_index("unpaired");
    sluice::Received received;
    while (ctx.receive(received)) {
      const sluice::Value* key = received.packet.find_path(key_);
      if (!key) {
        // In run() per-packet errors are ours to route: fail() sends the packet to the
        // node's `error` port or the dead letters.
        ctx.fail(std::move(received.packet), "key field '" + key_ + "' is missing");
        continue;
      }
      // The key's JSON text, so that 1 and "1" are different keys.
      const std::string key_text = sluice::json::to_string(*key);
      const bool from_left = received.in_port == left;
      auto& partners = waiting_[from_left ? 1 : 0];
      if (auto found = partners.find(key_text); found != partners.end()) {
        sluice::Packet partner = std::move(found->second.front());
        found->second.pop_front();
        if (found->second.empty()) partners.erase(found);
        --waiting_count_;
        sluice::Packet& left_packet = from_left ? received.packet : partner;
        sluice::Packet& right_packet = from_left ? partner : received.packet;
        sluice::Packet pair;
        pair.set("key", *key);
        pair.set("left", std::move(left_packet.fields()));
        pair.set("right", std::move(right_packet.fields()));
        pair.meta() = std::move(received.packet.meta());
        ctx.emit(std::move(pair));
      } else if (waiting_count_ >= max_waiting_) {
        ctx.emit(unpaired, std::move(received.packet));
      } else {
        waiting_[from_left ? 0 : 1][key_text].push_back(std::move(received.packet));
        ++waiting_count_;
      }
    }
    // The inputs closed (drain, undeploy, shutdown): nothing will pair what still waits.
    for (auto& side : waiting_)
      for (auto& [key, packets] : side)
        for (auto& packet : packets) ctx.emit(unpaired, std::move(packet));
    waiting_[0].clear();
    waiting_[1].clear();
    waiting_count_ = 0;
  }

 private:
  std::string key_;
  std::size_t max_waiting_;
  // [0]: from left, [1]: from right; key JSON text → packets in arrival order.
  std::unordered_map<std::string, std::deque<sluice::Packet>> waiting_[2];
  std::size_t waiting_count_ = 0;
};
{%- endif %}

}  // namespace {{cookiecutter.name}}
