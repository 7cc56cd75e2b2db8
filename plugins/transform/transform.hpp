// The transform package: transformers change fields, extractors pull values out of text.
//   set_field, copy_field, rename_field, delete_field (wildcards), case, trim, template,
//   hash (stable id), json_parse, date_normalize (→ ISO 8601)
//   regex_extract (named groups), email, url, address (e-mails, URLs, phone numbers)
// Field names are paths (`user.name`); a transformer whose source field is absent passes the
// packet on unchanged, so optional fields need no guard in front.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <sluice/component.hpp>

#include "regex.hpp"

namespace date {
class time_zone;
}
struct UCaseMap;

namespace sluice::transform {

class SetField : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit SetField(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::string field_;
  Value value_;
  bool overwrite_;
};

class CopyField : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit CopyField(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::string from_, to_;
};

class RenameField : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit RenameField(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::string from_, to_;
};

class DeleteField : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit DeleteField(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  // Each pattern split at dots: one glob per level.
  std::vector<std::vector<std::string>> patterns_;
};

class Case : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Case(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<std::string> fields_;
  enum class To { upper, lower, title } to_;
  // ICU's case mapping (full Unicode rules: ß → SS, title case by word boundaries); a
  // UCaseMap holds a word break iterator, so each instance owns one.
  std::unique_ptr<UCaseMap, void (*)(UCaseMap*)> case_map_;
};

class Trim : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Trim(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<std::string> fields_;  // empty: every top-level string field
  std::u32string chars_;              // code points to strip; empty: Unicode White_Space
};

class Template : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Template(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  struct Piece {
    std::string text;
    bool is_field;
  };
  std::vector<Piece> pieces_;
  std::string into_;
  bool strict_;
};

class Hash : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Hash(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<std::string> fields_;
  std::string into_;
  bool set_meta_id_;
};

class JsonParse : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit JsonParse(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::string field_, into_;
};

class DateNormalize : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit DateNormalize(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<std::string> fields_;
  std::vector<std::string> formats_;
  const date::time_zone* input_zone_;
  const date::time_zone* output_zone_;
};

class RegexExtract : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit RegexExtract(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::string field_, into_;
  Regex regex_;
  bool all_;
};

// email and url: a fixed pattern, every distinct match into an array.
class PatternExtractor : public Component {
 public:
  void process(Packet& packet, Emitter& emit) override;

 protected:
  PatternExtractor(const Params& params, const std::string& pattern);
  static std::vector<ParamSpec> extractor_params(std::string into_default);
  // The form a match is reported (and told apart from others) in; by default as written.
  virtual std::string canonical(std::string_view match) const { return std::string(match); }

 private:
  std::string field_, into_;
  Regex regex_;
};

class Email : public PatternExtractor {
 public:
  static ComponentDescriptor descriptor();
  explicit Email(const Params& params);

 private:
  // The domain lowercased: it is case-insensitive (RFC 5321), the local part is not.
  std::string canonical(std::string_view match) const override;
};

class Url : public PatternExtractor {
 public:
  static ComponentDescriptor descriptor();
  explicit Url(const Params& params);
};

// address: the contact addresses in a text field, each kind into a list field of its own:
// e-mail addresses and URLs by the rules of `email` and `url`, and telephone numbers (digits
// only, a leading + kept).
// International numbers (+ and a country code) and the common national forms: (020) 7946
// 0958, 555-123-4567, 06 12 34 56 78.
class Phone : public PatternExtractor {
 public:
  explicit Phone(const Params& params);

 private:
  std::string canonical(std::string_view match) const override;
};

class Address : public Component {
 public:
  static ComponentDescriptor descriptor();
  explicit Address(const Params& params);
  void process(Packet& packet, Emitter& emit) override;

 private:
  std::vector<std::unique_ptr<PatternExtractor>> extractors_;
};

}  // namespace sluice::transform
