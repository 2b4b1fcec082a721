#include "http/listen_address.h"

#include "http/request_parse.h"

namespace http {

std::string ListenAddress::ToString() const {
  if (unix_socket) return "unix:" + socket_path;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

ledger::Status ParseListenAddress(std::string_view spec, ListenAddress* out) {
  *out = ListenAddress();
  auto bad = [&](const std::string& why) {
    return ledger::Status::InvalidArgument("--listen \"" + std::string(spec) + "\": " + why);
  };
  constexpr std::string_view kUnix = "unix:";
  if (spec.substr(0, kUnix.size()) == kUnix) {
    out->unix_socket = true;
    out->socket_path = std::string(spec.substr(kUnix.size()));
    if (out->socket_path.empty() || out->socket_path[0] != '/') {
      return bad("a Unix socket needs an absolute path (unix:/run/ledgerfs/acme.sock)");
    }
    if (out->socket_path.size() > 107) return bad("a Unix socket path is at most 107 bytes");
    return ledger::Status::Ok();
  }
  std::string_view port_text = spec;
  out->host = "127.0.0.1";
  const size_t colon = spec.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view host = spec.substr(0, colon);
    port_text = spec.substr(colon + 1);
    if (!host.empty() && host.front() == '[') {
      if (host.size() < 3 || host.back() != ']') return bad("an IPv6 address goes in [brackets]");
      host = host.substr(1, host.size() - 2);
      if (host.find(':') == std::string_view::npos) {
        return bad("only an IPv6 address goes in [brackets]");
      }
    } else if (host.find(':') != std::string_view::npos) {
      return bad("an IPv6 address goes in [brackets], as in [::1]:8080");
    }
    if (host.empty()) return bad("the host is empty (leave out the ':' for loopback)");
    if (host.find_first_of("[]") != std::string_view::npos) {
      return bad("'[' and ']' only go around an IPv6 address, as in [::1]:8080");
    }
    out->host = std::string(host);
  }
  uint64_t port = 0;
  if (!ParseDecimal(port_text, &port) || port > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  out->port = static_cast<int>(port);
  return ledger::Status::Ok();
}

}  // namespace http
