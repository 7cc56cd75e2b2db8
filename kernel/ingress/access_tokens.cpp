#include "ingress/access_tokens.hpp"

#include <fstream>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "support/strings.hpp"

namespace sluice {
namespace {

AccessTokens::Digest sha256(std::string_view text) {
  AccessTokens::Digest digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 || size != digest.size())
    throw std::runtime_error("SHA-256 is not available from OpenSSL");
  return digest;
}

std::optional<AccessTokens::Digest> parse_hex_digest(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  AccessTokens::Digest digest{};
  for (std::size_t i = 0; i < digest.size(); ++i) {
    unsigned value = 0;
    for (char c : hex.substr(i * 2, 2)) {
      value <<= 4;
      if (c >= '0' && c <= '9') value |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') value |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') value |= static_cast<unsigned>(c - 'A' + 10);
      else return std::nullopt;
    }
    digest[i] = static_cast<unsigned char>(value);
  }
  return digest;
}

// The words of one line of a token file; empty for blank lines and `#` comments.
std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> words;
  line = trim(line);
  if (line.empty() || line.front() == '#') return words;
  while (!line.empty()) {
    std::size_t end = 0;
    while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) ++end;
    words.push_back(line.substr(0, end));
    line = trim(line.substr(end));
  }
  return words;
}

std::ifstream open_token_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read the token file " + file.string());
  return in;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::read: return "read";
    case Role::data: return "data";
    case Role::admin: return "admin";
  }
  return "admin";
}

std::optional<Role> parse_role(std::string_view name) {
  for (Role role : {Role::read, Role::data, Role::admin})
    if (name == role_name(role)) return role;
  return std::nullopt;
}

AccessTokens AccessTokens::load(const std::filesystem::path& file) {
  std::ifstream in = open_token_file(file);
  AccessTokens tokens;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::vector<std::string_view> words = words_of(line);
    if (words.empty()) continue;
    const std::string place = file.string() + ":" + std::to_string(number) + ": ";
    if (words.size() > 2)
      throw std::runtime_error(place + "expected a token and a role (read, data or admin), found " +
                               std::to_string(words.size()) + " words");
    Entry entry{};
    if (words[0].starts_with("sha256:")) {
      const auto digest = parse_hex_digest(words[0].substr(7));
      if (!digest) throw std::runtime_error(place + "sha256: must be followed by 64 hex digits (sha256sum of the token)");
      entry.digest = *digest;
    } else {
      entry.digest = sha256(words[0]);
    }
    entry.role = Role::admin;
    if (words.size() == 2) {
      const auto role = parse_role(words[1]);
      if (!role) throw std::runtime_error(place + "unknown role '" + std::string(words[1]) + "' (read, data or admin)");
      entry.role = *role;
    }
    tokens.entries_.push_back(entry);
  }
  if (tokens.empty())
    throw std::runtime_error(file.string() + ": no token in the file (one per line: the token and its role)");
  return tokens;
}

std::optional<Role> AccessTokens::role_of(std::string_view presented) const {
  const Digest digest = sha256(presented);
  // Every entry is compared, matched or not, so the time taken says nothing about which one.
  std::optional<Role> found;
  for (const Entry& entry : entries_)
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0 && (!found || entry.role > *found))
      found = entry.role;
  return found;
}

std::string read_client_token(const std::filesystem::path& file) {
  std::ifstream in = open_token_file(file);
  std::string line;
  while (std::getline(in, line))
    if (const std::vector<std::string_view> words = words_of(line); !words.empty()) return std::string(words[0]);
  throw std::runtime_error("no token in " + file.string() + " (its first line that is not a comment holds it)");
}

}  // namespace sluice
