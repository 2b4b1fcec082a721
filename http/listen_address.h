// Where the HTTP API listens (`--listen`): "PORT" (loopback, 127.0.0.1), "HOST:PORT",
// "[IPv6]:PORT", or "unix:/absolute/path" for a Unix socket. Port 0 asks the kernel for a free
// port; the daemon logs the one it got.
#pragma once

#include <string>
#include <string_view>

#include "ledger/status.h"

namespace http {

struct ListenAddress {
  bool unix_socket = false;
  std::string host;  // an IP address or host name; unused for a Unix socket
  int port = 0;
  std::string socket_path;       // unix_socket only
  std::string ToString() const;  // "127.0.0.1:8080", "[::1]:8080", "unix:/run/x.sock"
};

ledger::Status ParseListenAddress(std::string_view spec, ListenAddress* out);

}  // namespace http
