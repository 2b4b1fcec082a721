// Fuzzes ParseListenAddress (http/listen_address.h), which reads `--listen` and `-o listen=`.
// Properties: an accepted TCP address has a host and a port in 0..65535 written as a canonical
// decimal; an accepted Unix socket has an absolute path that fits sun_path; and the address
// printed by ToString (what the daemon logs) parses back to the same address.
#include <sys/un.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "http/listen_address.h"
#include "ledger/encoding.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool Same(const http::ListenAddress& a, const http::ListenAddress& b) {
  return a.unix_socket == b.unix_socket && a.host == b.host && a.port == b.port &&
         a.socket_path == b.socket_path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = fuzz::AsView(data, size);
  http::ListenAddress addr;
  if (!http::ParseListenAddress(in, &addr).ok()) return 0;
  if (addr.unix_socket) {
    FUZZ_CHECK(in == "unix:" + addr.socket_path);
    FUZZ_CHECK(addr.socket_path.starts_with("/"));
    FUZZ_CHECK(addr.socket_path.size() < sizeof(sockaddr_un{}.sun_path));  // room for the NUL
    FUZZ_CHECK(addr.host.empty() && addr.port == 0);
  } else {
    FUZZ_CHECK(!addr.host.empty());
    FUZZ_CHECK(addr.port >= 0 && addr.port <= 65535);
    // The port is the text after the last ':' (or all of it), in its one decimal spelling.
    const size_t colon = in.rfind(':');
    const std::string_view port = colon == std::string_view::npos ? in : in.substr(colon + 1);
    FUZZ_CHECK(ledger::ParseDecimal(port) == static_cast<uint64_t>(addr.port));
    FUZZ_CHECK(addr.socket_path.empty());
  }
  http::ListenAddress again;
  FUZZ_CHECK(http::ParseListenAddress(addr.ToString(), &again).ok());
  FUZZ_CHECK(Same(addr, again));
  return 0;
}
