#include "http/http_server.h"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <thread>

#include "spdlog/spdlog.h"

namespace http {

class HttpServer::Impl {
 public:
  httplib::Server server;
  std::thread thread;
  std::string address;
  std::string socket_path;  // a Unix socket to remove at Stop
  bool stopped = false;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
}

ledger::Status HttpServer::Start(const ListenAddress& address, const HttpServerOptions& options,
                                 TenantApi* api, std::unique_ptr<HttpServer>* out) {
  auto impl = std::make_unique<Impl>();
  httplib::Server& server = impl->server;
  const size_t threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_read_timeout(options.read_timeout);
  server.set_write_timeout(options.write_timeout);
  server.set_keep_alive_timeout(options.keep_alive_timeout.count());
  server.set_keep_alive_max_count(options.keep_alive_max_requests);
  // httplib writes a response's headers and body separately; without TCP_NODELAY the body waits
  // for the client's delayed ACK (~40 ms per keep-alive request).
  server.set_tcp_nodelay(true);
  // The API enforces its own body limit while streaming (TenantApi); httplib's is off so that a
  // chunked record is never cut by a second, different rule.
  server.set_payload_max_length(std::numeric_limits<size_t>::max());
  api->Install(&server);

  std::string where = address.ToString();
  if (address.unix_socket) {
    struct stat st {};
    if (::lstat(address.socket_path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return ledger::Status::AlreadyExists(address.socket_path +
                                             ": exists and is not a socket; not replacing it");
      }
      ::unlink(address.socket_path.c_str());  // a stale socket of an earlier daemon
    }
    server.set_address_family(AF_UNIX);
    // httplib reports a Unix bind through is_valid(), not the port it returns.
    server.bind_to_port(address.socket_path, 0);
    if (!server.is_valid() || ::lstat(address.socket_path.c_str(), &st) != 0) {
      return ledger::Status::FromErrno("listening on " + where, errno);
    }
    // Who may connect is decided by the folder holding the socket (docs/http.md): the socket
    // takes that folder's group and is read-write for owner and group, whatever the umask.
    const std::string dir = address.socket_path.substr(0, address.socket_path.rfind('/'));
    struct stat dir_st {};
    if (::stat(dir.empty() ? "/" : dir.c_str(), &dir_st) != 0 ||
        ::chown(address.socket_path.c_str(), static_cast<uid_t>(-1), dir_st.st_gid) != 0 ||
        ::chmod(address.socket_path.c_str(), 0660) != 0) {
      const int err = errno;
      ::unlink(address.socket_path.c_str());
      return ledger::Status::FromErrno("setting the group and mode of " + address.socket_path, err);
    }
    impl->socket_path = address.socket_path;
  } else {
    const int port = address.port == 0
                         ? server.bind_to_any_port(address.host)
                         : (server.bind_to_port(address.host, address.port) ? address.port : -1);
    if (port < 0) {
      const int err = errno;
      return ledger::Status::FromErrno(
          "listening on " + where + " (is the port in use, or the address not local?)",
          err != 0 ? err : EADDRINUSE);
    }
    ListenAddress bound = address;
    bound.port = port;
    where = bound.ToString();
  }
  impl->address = where;
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    if (!raw->server.listen_after_bind())
      spdlog::error("the HTTP listener on {} stopped", raw->address);
  });
  spdlog::info("serving http://{} ({} threads, body limit {} bytes)", where, threads,
               api->config().max_body);
  out->reset(new HttpServer(std::move(impl)));
  return ledger::Status::Ok();
}

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  if (!impl_->socket_path.empty()) ::unlink(impl_->socket_path.c_str());
  spdlog::info("stopped serving http://{}", impl_->address);
}

const std::string& HttpServer::address() const {
  return impl_->address;
}

}  // namespace http
