// AccessTokens — the bearer tokens a server accepts and the role each one grants, read from the
// file given to `sluice serve --token-file`:
//
//   # one token per line: the token (or sha256:<64 hex digits> of it) and its role
//   4f1c0c3e9a...          admin
//   sha256:9f86d081884c...  data
//   e1b2...                 read
//
//   AccessTokens tokens = AccessTokens::load("/etc/sluice/tokens");   // throws, naming file:line
//   if (auto role = tokens.role_of(presented)) ...                      // nullopt: not a token of ours
//
// Roles are cumulative: `read` may call the GET routes and /metrics, `data` also pushes packets
// and reads streams, `admin` may do everything (deploy, delete, dead letters, replay, tap). A
// line with a token and no role is an admin token, so a file that holds only one token keeps
// meaning what it always meant.
//
// Tokens are kept as SHA-256 digests only, and a presented token is compared with every digest
// in constant time: neither the file nor the timing of a refusal tells how close a guess was.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

enum class Role : std::uint8_t { read, data, admin };

std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

class AccessTokens {
 public:
  using Digest = std::array<unsigned char, 32>;

  // Throws std::runtime_error "FILE:LINE: ..." for an unreadable file, an unknown role, a
  // malformed sha256: entry or a file without any token.
  static AccessTokens load(const std::filesystem::path& file);

  bool empty() const { return entries_.empty(); }
  std::optional<Role> role_of(std::string_view presented) const;

 private:
  struct Entry {
    Digest digest;
    Role role;
  };
  std::vector<Entry> entries_;
};

// The first word of the first line that is neither empty nor a comment: what a client
// (`sluice deploy --token-file`) sends, so the same file can serve both ends. Throws
// std::runtime_error naming the file when there is none.
std::string read_client_token(const std::filesystem::path& file);

}  // namespace sluice
