#include "sluice/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cstdint>

namespace sluice {

namespace {

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

std::string error_message(int code) {
  PCRE2_UCHAR message[256];
  pcre2_get_error_message(code, message, sizeof message);
  return reinterpret_cast<const char*>(message);
}

}  // namespace

struct Regex::Compiled {
  std::unique_ptr<pcre2_code, CodeDeleter> code;
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> data;  // for for_each_match
  std::size_t group_count = 0;
  std::vector<std::pair<std::string, std::size_t>> names;
};

static_assert(sizeof(PCRE2_SIZE) == sizeof(std::size_t), "Match holds PCRE2's offsets as size_t");

std::string_view Regex::Match::group(std::size_t n) const {
  if (!has_group(n)) return {};
  return subject_.substr(offsets_[2 * n], offsets_[2 * n + 1] - offsets_[2 * n]);
}

bool Regex::Match::has_group(std::size_t n) const { return n < count_ && offsets_[2 * n] != PCRE2_UNSET; }

Regex::Regex(std::string_view pattern, RegexFlags flags) : compiled_(std::make_unique<Compiled>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  // UCP: \w, \d, \b and the POSIX classes follow Unicode properties, as caseless matching does.
  const std::uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF |
                                (flags.caseless ? PCRE2_CASELESS : 0) |
                                (flags.multiline ? PCRE2_MULTILINE : 0) |
                                (flags.dotall ? PCRE2_DOTALL : 0) | (flags.extended ? PCRE2_EXTENDED : 0);
  compiled_->code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                                      &error, &offset, nullptr));
  if (!compiled_->code) throw RegexError(error_message(error), offset);
  pcre2_code* code = compiled_->code.get();
  // Without JIT support the interpreter runs instead; both give the same results.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  compiled_->data.reset(pcre2_match_data_create_from_pattern(code, nullptr));
  std::uint32_t captures = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures);
  compiled_->group_count = captures;
  std::uint32_t name_count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &name_count);
  pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
  // Each entry: a 2-byte group number, then the zero-terminated name.
  for (std::uint32_t i = 0; i < name_count; ++i) {
    const PCRE2_SPTR entry = table + i * entry_size;
    const std::size_t number = (static_cast<std::size_t>(entry[0]) << 8) | entry[1];
    compiled_->names.emplace_back(reinterpret_cast<const char*>(entry + 2), number);
  }
  std::sort(compiled_->names.begin(), compiled_->names.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

std::size_t Regex::group_count() const { return compiled_->group_count; }

const std::vector<std::pair<std::string, std::size_t>>& Regex::named_groups() const { return compiled_->names; }

bool Regex::matches(std::string_view subject) const {
  // One pair of offsets is all a yes/no match needs, so one match block per thread serves
  // every pattern (match blocks cannot be shared between threads).
  thread_local std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(pcre2_match_data_create(1, nullptr));
  return pcre2_match(compiled_->code.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                     data.get(), nullptr) >= 0;
}

void Regex::for_each_match(std::string_view subject, const std::function<bool(const Match&)>& on_match) {
  const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
  PCRE2_SIZE start = 0;
  while (start <= subject.size()) {
    const int rc = pcre2_match(compiled_->code.get(), text, subject.size(), start, 0, compiled_->data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) throw std::runtime_error("regex match failed: " + error_message(rc));
    Match match;
    match.subject_ = subject;
    match.offsets_ = pcre2_get_ovector_pointer(compiled_->data.get());
    match.count_ = static_cast<std::size_t>(rc);
    if (!on_match(match)) return;
    const PCRE2_SIZE end = match.offsets_[1];
    // An empty match would repeat forever at the same place: step over one character.
    if (end == match.offsets_[0]) {
      start = end + 1;
      while (start < subject.size() && (static_cast<unsigned char>(subject[start]) & 0xC0) == 0x80) ++start;
    } else {
      start = end;
    }
  }
}

}  // namespace sluice
