// The `tls` param of components that reach a server over TLS, with the names of the SDK's
// http::TlsOptions: {ca_file, verify, client_cert, client_key, server_name}. The kernel resolves
// the three files as it does file_path params (file_keys: `sluice serve` keeps them inside its
// data root and --allow-path directories); they are read at deploy, so one that cannot be read
// is a 422 naming `tls.<key>` rather than a connection that never comes. A component with this
// param declares capability fs_read.
#pragma once

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sluice/component.hpp>
#include <sluice/http_client.hpp>

namespace sluice {

inline ParamSpec tls_param_spec(const std::string& to_what) {
  return {.name = "tls",
          .type = ParamType::object,
          .description = "TLS to " + to_what +
                         ": {ca_file (PEM CAs to trust instead of the system's), verify (false: any certificate, for "
                         "tests only), client_cert + client_key (PEM, to present), server_name (to verify and send "
                         "as SNI, when not the URL's host)}; the files resolve like file paths (in the data "
                         "directory under sluice serve) and are read at deploy",
          .file_keys = {"ca_file", "client_cert", "client_key"}};
}

inline http::TlsOptions parse_tls_param(const Value& tls) {
  static const std::vector<std::string> keys = {"ca_file", "verify", "client_cert", "client_key", "server_name"};
  http::TlsOptions options;
  for (const auto& [key, value] : tls.as_object()) {
    const std::string name = "param 'tls." + std::string(key) + "'";
    if (key == "verify") {
      if (!value.is_bool()) throw std::invalid_argument(name + ": must be true or false, got " + value.type_name());
      options.verify = value.as_bool();
      continue;
    }
    std::string* text = key == "ca_file"       ? &options.ca_file
                        : key == "client_cert" ? &options.client_cert
                        : key == "client_key"  ? &options.client_key
                        : key == "server_name" ? &options.server_name
                                               : nullptr;
    if (!text) {
      const std::string near = closest_match(key, keys);
      throw std::invalid_argument("param 'tls': unknown key '" + std::string(key) + "'" +
                                  (near.empty() ? "" : " (did you mean '" + near + "'?)"));
    }
    if (!value.is_string()) throw std::invalid_argument(name + ": must be a string, got " + value.type_name());
    *text = value.as_string();
    if (key != "server_name" && !std::ifstream(*text))
      throw std::invalid_argument(name + ": cannot read " + *text + ": " + std::strerror(errno));
  }
  if (options.client_cert.empty() != options.client_key.empty())
    throw std::invalid_argument("param 'tls': client_cert and client_key go together");
  return options;
}

}  // namespace sluice
