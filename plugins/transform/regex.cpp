#include "regex.hpp"

#include <algorithm>
#include <stdexcept>

namespace sluice::transform {

std::string_view Regex::Match::group(std::size_t n) const {
  if (!has_group(n)) return {};
  return subject_.substr(offsets_[2 * n], offsets_[2 * n + 1] - offsets_[2 * n]);
}

bool Regex::Match::has_group(std::size_t n) const {
  return n < count_ && offsets_[2 * n] != PCRE2_UNSET;
}

Regex::Regex(const std::string& pattern, const std::string& param, bool caseless) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  // UCP: \w, \d, \b and the POSIX classes follow Unicode properties, as caseless matching does.
  std::uint32_t options =
      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0);
  code_.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                            &error, &offset, nullptr));
  if (!code_) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw std::invalid_argument("param '" + param + "': bad regex at offset " +
                                std::to_string(offset) + ": " +
                                reinterpret_cast<const char*>(message));
  }
  // Without JIT support the interpreter runs instead; both give the same results.
  pcre2_jit_compile(code_.get(), PCRE2_JIT_COMPLETE);
  data_.reset(pcre2_match_data_create_from_pattern(code_.get(), nullptr));
  std::uint32_t captures = 0;
  pcre2_pattern_info(code_.get(), PCRE2_INFO_CAPTURECOUNT, &captures);
  group_count_ = captures;
  std::uint32_t name_count = 0, entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code_.get(), PCRE2_INFO_NAMECOUNT, &name_count);
  pcre2_pattern_info(code_.get(), PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(code_.get(), PCRE2_INFO_NAMETABLE, &table);
  // Each entry: a 2-byte group number, then the zero-terminated name.
  for (std::uint32_t i = 0; i < name_count; ++i) {
    const PCRE2_SPTR entry = table + i * entry_size;
    const std::size_t number = (static_cast<std::size_t>(entry[0]) << 8) | entry[1];
    names_.emplace_back(reinterpret_cast<const char*>(entry + 2), number);
  }
  std::sort(names_.begin(), names_.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
}

void Regex::for_each_match(std::string_view subject,
                           const std::function<bool(const Match&)>& on_match) {
  const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
  PCRE2_SIZE start = 0;
  while (start <= subject.size()) {
    const int rc = pcre2_match(code_.get(), text, subject.size(), start, 0, data_.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      throw std::runtime_error(std::string("regex match failed: ") +
                               reinterpret_cast<const char*>(message));
    }
    Match match;
    match.subject_ = subject;
    match.offsets_ = pcre2_get_ovector_pointer(data_.get());
    match.count_ = static_cast<std::size_t>(rc);
    if (!on_match(match)) return;
    const PCRE2_SIZE end = match.offsets_[1];
    // An empty match would repeat forever at the same place: step over one character.
    if (end == match.offsets_[0]) {
      start = end + 1;
      while (start < subject.size() && (static_cast<unsigned char>(subject[start]) & 0xC0) == 0x80)
        ++start;
    } else {
      start = end;
    }
  }
}

}  // namespace sluice::transform
