#include "http/tenant_api.h"

#include <httplib.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "http/record_json.h"
#include "http/request_parse.h"
#include "http/tile_cache.h"
#include "ledger/hash.h"
#include "ledger/proof_builder.h"
#include "ledger/records.h"
#include "spdlog/spdlog.h"

namespace http {

namespace {

using Handled = httplib::Server::HandlerResponse;

constexpr char kJson[] = "application/json";
constexpr char kText[] = "text/plain; charset=utf-8";
constexpr char kOctets[] = "application/octet-stream";
constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr size_t kReadChunk = 256 << 10;  // bytes read from the store per step of a record GET

std::string Remote(const httplib::Request& req) {
  return req.remote_addr.empty() ? "unix-socket" : req.remote_addr;
}

// True if If-None-Match lists `etag` (or is "*"); weak comparison, as RFC 9110 asks for GET.
bool NoneMatch(const httplib::Request& req, const std::string& etag) {
  if (!req.has_header("If-None-Match")) return false;
  const std::string list = req.get_header_value("If-None-Match");
  size_t pos = 0;
  while (pos < list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string_view tag(list.data() + pos, comma - pos);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    pos = comma + 1;
  }
  return false;
}

// RFC 9110 §14.1.2: a range is satisfiable if its first byte is inside the content (a suffix
// range, if it asks for at least one byte of non-empty content). httplib 0.11 answers 206 with
// a broken body instead, so the API checks first.
bool RangesSatisfiable(const httplib::Request& req, uint64_t size) {
  for (const auto& [first, last] : req.ranges) {
    const bool suffix = first < 0;
    const bool ok = suffix ? (last > 0 && size > 0) : static_cast<uint64_t>(first) < size;
    if (!ok) return false;
  }
  return true;
}

// RFC 9110 cuts a range that runs past the end at the end; httplib 0.11 does not, and would ask
// for (and announce) bytes that do not exist. The request is httplib's own non-const object,
// handed to handlers as const, so the ranges are cut here, before httplib applies them.
void ClampRanges(const httplib::Request& req, uint64_t size) {
  for (auto& [first, last] : const_cast<httplib::Ranges&>(req.ranges)) {
    if (first >= 0 && size > 0 && (last < 0 || static_cast<uint64_t>(last) >= size)) {
      last = static_cast<ssize_t>(size - 1);
    }
  }
}

// The HTTP status for a store error while writing or reading.
int StoreErrorStatus(const ledger::Status& st) {
  switch (st.code()) {
    case ledger::Status::Code::kNoSpace:
      return 507;
    case ledger::Status::Code::kFailed:
      return 503;
    case ledger::Status::Code::kNotFound:
      return 404;
    case ledger::Status::Code::kAlreadyExists:
      return 409;
    case ledger::Status::Code::kInvalidArgument:
      return 400;
    default:
      return 500;
  }
}

// What httplib's own refusals mean, for their JSON body.
const char* LibraryErrorMessage(int status) {
  switch (status) {
    case 400:
      return "malformed HTTP request";
    case 414:
      return "the request target is too long";
    case 416:
      return "the range cannot be satisfied";
    default:
      return "the request failed";
  }
}

}  // namespace

class TenantApi::Impl {
 public:
  Impl(ledger::Log* log, ledger::Storage* storage, ledger::RecordIndex* index,
       TenantApiConfig config)
      : log_(log),
        storage_(storage),
        index_(index),
        records_(log, storage),
        config_(std::move(config)),
        tiles_(storage, config_.tile_cache_bytes) {}

  void Install(httplib::Server* server) {
    server->set_pre_routing_handler(
        [this](const httplib::Request& req, httplib::Response& res) { return Guard(req, res); });
    // POST /records/<path> alone reaches httplib's router, which streams its body. The pattern
    // matches any byte ([\s\S]), so no decoded path falls through to a body-buffering default;
    // the path was already validated by the pre-routing handler.
    server->Post(R"(/records/[\s\S]*)",
                 [this](const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader& reader) { PostRecord(req, res, reader); });
    server->set_exception_handler(
        [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          Fail(req, res, 500, "internal error: " + what);
        });
    // Errors httplib answers itself (a malformed request line, a Range it cannot parse) get the
    // same JSON body as ours.
    server->set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
          if (!res.body.empty() || res.content_provider_) return Handled::Unhandled;
          res.set_content(ErrorJson(res.status, LibraryErrorMessage(res.status)), kJson);
          return Handled::Handled;
        }));
    server->set_logger([](const httplib::Request& req, const httplib::Response& res) {
      spdlog::debug("{} {} -> {} ({} bytes) from {}", req.method, req.target, res.status,
                    res.body.size(), Remote(req));
    });
  }

  const TenantApiConfig& config() const { return config_; }

 private:
  // Sends a JSON error and logs it with the remote address. A request whose body was not read
  // closes the connection, so the unread bytes are never taken for a next request.
  void Fail(const httplib::Request& req, httplib::Response& res, int status,
            const std::string& message) {
    res.status = status;
    res.set_content(ErrorJson(status, message), kJson);
    // An error body is whole: httplib would otherwise cut it to the request's Range (see
    // ClampRanges for why the request may be changed here).
    const_cast<httplib::Ranges&>(req.ranges).clear();
    if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      res.set_header("Connection", "close");
    }
    spdlog::warn("{} {} {} from {}: {}", status, req.method, req.target.substr(0, 512), Remote(req),
                 message);
  }

  // Every request comes here first: the tenant, the route, the method, then the GET handlers.
  // Only a POST of a record, once checked, is left to httplib (Unhandled) so it can stream.
  Handled Guard(const httplib::Request& req, httplib::Response& res) {
    if (!CheckTenant(req, res)) return Handled::Handled;
    Route route;
    ledger::Status st = MatchRoute(req.target, &route);
    if (!st.ok()) {
      Fail(req, res, st.code() == ledger::Status::Code::kNotFound ? 404 : 400, st.message());
      return Handled::Handled;
    }
    if (!MethodAllowed(route.resource, req.method)) {
      res.set_header("Allow", AllowHeader(route.resource));
      Fail(req, res, 405, req.method + " is not allowed here; use " + AllowHeader(route.resource));
      return Handled::Handled;
    }
    QueryParams params;
    if (req.method == "POST") {
      const bool ok = Query(req, res, route, {}, &params) && CheckUpload(req, res);
      return ok ? Handled::Unhandled : Handled::Handled;
    }
    switch (route.resource) {
      case Resource::kCheckpoint:
        if (Query(req, res, route, {}, &params)) GetCheckpoint(req, res);
        break;
      case Resource::kTile:
        if (Query(req, res, route, {}, &params)) GetTile(req, res, route);
        break;
      case Resource::kRecordsPage:
        if (Query(req, res, route, {"since", "limit"}, &params)) GetRecordsPage(req, res, params);
        break;
      case Resource::kRecord:
        if (Query(req, res, route, {}, &params)) GetRecord(req, res, route.record_path);
        break;
      case Resource::kInclusion:
        if (Query(req, res, route, {"index", "size"}, &params)) GetInclusion(req, res, params);
        break;
      case Resource::kConsistency:
        if (Query(req, res, route, {"from", "to"}, &params)) GetConsistency(req, res, params);
        break;
    }
    return Handled::Handled;
  }

  bool CheckTenant(const httplib::Request& req, httplib::Response& res) {
    std::optional<std::string_view> header;
    const size_t count = req.get_header_value_count("X-Module-ID");
    std::string value;
    if (count > 0) header = value = req.get_header_value("X-Module-ID");
    ModuleIdCheck check = CheckModuleId(header, config_.tenant);
    if (count > 1) check = ModuleIdCheck::kMalformed;
    switch (check) {
      case ModuleIdCheck::kMatch:
        return true;
      case ModuleIdCheck::kMissing:
        Fail(req, res, 400, "the X-Module-ID header is missing; it must name the tenant");
        return false;
      case ModuleIdCheck::kMalformed:
        Fail(req, res, 400,
             count > 1 ? "X-Module-ID is given more than once"
                       : "X-Module-ID is not a tenant ID (1-64 of [A-Za-z0-9._-], starting with "
                         "a letter or digit)");
        return false;
      case ModuleIdCheck::kOtherTenant:
        Fail(req, res, 403,
             "X-Module-ID \"" + value + "\" names another tenant; this daemon serves \"" +
                 config_.tenant + "\"");
        return false;
    }
    return false;
  }

  bool Query(const httplib::Request& req, httplib::Response& res, const Route& route,
             const std::vector<std::string_view>& allowed, QueryParams* params) {
    ledger::Status st = ParseQuery(route.query, allowed, params);
    if (!st.ok()) Fail(req, res, 400, st.message());
    return st.ok();
  }

  // A numeric query parameter: absent leaves *out alone; malformed fails the request.
  bool Number(const httplib::Request& req, httplib::Response& res, const QueryParams& params,
              std::string_view key, std::optional<uint64_t>* out) {
    auto text = QueryValue(params, key);
    if (!text) return true;
    uint64_t v = 0;
    if (!ParseDecimal(*text, &v)) {
      Fail(req, res, 400,
           std::string(key) + "=" + std::string(text->substr(0, 64)) +
               " is not a plain decimal number (no sign, no leading zero, at most 2^64-1)");
      return false;
    }
    *out = v;
    return true;
  }

  // --- C2SP tlog-tiles read path ---

  void GetCheckpoint(const httplib::Request& req, httplib::Response& res) {
    std::string note;
    ledger::Status st = log_->LatestCheckpoint(&note);
    if (!st.ok()) return Fail(req, res, 500, st.ToString());
    const std::string etag = "\"" + ledger::HashToHex(ledger::Sha256(note)) + "\"";
    res.set_header("Cache-Control", "public, max-age=1");
    Send(req, res, etag, note, kText);
  }

  void GetTile(const httplib::Request& req, httplib::Response& res, const Route& route) {
    std::shared_ptr<const CachedTile> tile;
    ledger::Status st = tiles_.Get(route.tile_name, route.tile, &tile);
    if (st.code() == ledger::Status::Code::kNotFound) {
      return Fail(req, res, 404, route.tile_name + " is not published");
    }
    if (!st.ok()) return Fail(req, res, 500, st.ToString());
    const bool full = route.tile.tile.width == static_cast<int>(ledger::kTileWidth);
    res.set_header("Cache-Control", full ? kImmutable : "public, max-age=60");
    Send(req, res, tile->etag, tile->bytes, kOctets);
  }

  // 304 if the client has this version, else the body (httplib applies a Range).
  void Send(const httplib::Request& req, httplib::Response& res, const std::string& etag,
            const std::string& body, const char* type) {
    res.set_header("ETag", etag);
    if (NoneMatch(req, etag)) {
      res.status = 304;
      return;
    }
    ClampRanges(req, body.size());
    res.set_content(body, type);  // httplib 0.11 copies once whatever is passed
  }

  // --- Records ---

  void GetRecordsPage(const httplib::Request& req, httplib::Response& res,
                      const QueryParams& params) {
    std::optional<uint64_t> since, limit;
    if (!Number(req, res, params, "since", &since) || !Number(req, res, params, "limit", &limit)) {
      return;
    }
    if (limit && *limit == 0) return Fail(req, res, 400, "limit must be at least 1");
    const uint64_t from = since.value_or(0);
    const size_t page = static_cast<size_t>(
        std::min<uint64_t>(limit.value_or(config_.default_page), config_.max_page));
    const uint64_t size = log_->committed_size();
    if (from > size) {
      return Fail(
          req, res, 404,
          "since=" + std::to_string(from) + " is beyond the log size " + std::to_string(size));
    }
    std::vector<std::string> entries;
    uint64_t next = 0;
    ledger::Status st = log_->ReadSince(from, page, &entries, &next);
    if (!st.ok()) return Fail(req, res, StoreErrorStatus(st), st.ToString());
    res.set_header("Cache-Control", "no-cache");
    res.set_content(RecordPageJson(from, entries, next, std::max(next, log_->committed_size())),
                    kJson);
  }

  void GetRecord(const httplib::Request& req, httplib::Response& res, const std::string& path) {
    ledger::RecordIndex::Entry e;
    if (!index_->LookupPath(path, &e) || !e.sealed || e.directory) {
      const bool folder = e.directory && e.id != 0;
      return Fail(req, res, 404,
                  "no record \"" + ledger::EscapeRecordPath(path) + "\"" +
                      (folder ? " (a folder; GET /records lists the log)" : ""));
    }
    const std::string hex = ledger::HashToHex(e.sha256);
    const std::string etag = "\"" + hex + "\"";
    res.set_header("ETag", etag);
    res.set_header("Cache-Control", kImmutable);
    res.set_header("Repr-Digest", "sha-256=:" + ledger::HashToBase64(e.sha256) + ":");
    res.set_header("X-Record-Index", std::to_string(e.index));
    if (NoneMatch(req, etag)) {
      res.status = 304;
      return;
    }
    if (!RangesSatisfiable(req, e.size)) {
      res.set_header("Content-Range", "bytes */" + std::to_string(e.size));
      return Fail(req, res, 416,
                  "the range is beyond the record's " + std::to_string(e.size) + " bytes");
    }
    ClampRanges(req, e.size);
    if (e.size == 0) return res.set_content("", kOctets);
    const std::string final_name = ledger::ContentName(hex);
    res.set_content_provider(
        e.size, kOctets, [this, final_name](size_t offset, size_t length, httplib::DataSink& sink) {
          std::string chunk;
          ledger::Status st = ReadContent(final_name, offset, std::min(length, kReadChunk), &chunk);
          if (!st.ok() || chunk.empty()) {
            spdlog::error("reading {}: {}", final_name, st.ToString());
            return false;  // httplib drops the connection: the client sees a short body
          }
          return sink.write(chunk.data(), chunk.size());
        });
  }

  // Reads committed content wherever it is now: staged until the publisher moves it, then under
  // its final name (a move between resolving and reading is retried once).
  ledger::Status ReadContent(const std::string& final_name, uint64_t offset, size_t n,
                             std::string* out) {
    ledger::Status st;
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string readable;
      st = log_->ResolveAttachment(final_name, &readable);
      if (st.ok()) st = storage_->ReadAt(readable, offset, n, out);
      if (st.code() != ledger::Status::Code::kNotFound) return st;
    }
    return st;
  }

  // Checks made before httplib reads a record's body: its size, when declared.
  bool CheckUpload(const httplib::Request& req, httplib::Response& res) {
    const bool chunked = req.get_header_value("Transfer-Encoding") == "chunked";
    if (!chunked && !req.has_header("Content-Length")) {
      Fail(req, res, 411,
           "a record needs Content-Length (0 for an empty record) or chunked "
           "Transfer-Encoding");
      return false;
    }
    if (!chunked) {
      uint64_t length = 0;
      if (!ParseDecimal(req.get_header_value("Content-Length"), &length)) {
        Fail(req, res, 400, "Content-Length is not a decimal number");
        return false;
      }
      if (length > config_.max_body) {
        Fail(req, res, 413,
             "the body of " + std::to_string(length) + " bytes is over the limit of " +
                 std::to_string(config_.max_body) + " bytes");
        return false;
      }
    }
    return true;
  }

  void PostRecord(const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader) {
    Route route;
    if (!MatchRoute(req.target, &route).ok() || route.resource != Resource::kRecord) {
      return Fail(req, res, 400, "not a record path");  // Guard let only records through
    }
    const std::string& path = route.record_path;
    ledger::RecordIndex::NodeId id = 0;
    ledger::Status st = index_->ReservePath(path, &id);
    if (!st.ok()) return Fail(req, res, StoreErrorStatus(st), st.message());
    std::unique_ptr<ledger::RecordWriter> writer;
    st = records_.BeginFile(path, &writer);
    if (!st.ok()) {
      index_->Unreserve(id);
      return Fail(req, res, StoreErrorStatus(st), st.ToString());
    }
    uint64_t received = 0;
    bool too_big = false;
    ledger::Status write_st;
    const bool read_ok = reader([&](const char* data, size_t len) {
      received += len;
      if (received > config_.max_body) {
        too_big = true;
        return false;
      }
      write_st = writer->Write(std::string_view(data, len));
      return write_st.ok();
    });
    if (!read_ok || too_big || !write_st.ok()) {
      writer->Abort();
      index_->Unreserve(id);
      if (too_big) {
        return Fail(req, res, 413,
                    "the body passed the limit of " + std::to_string(config_.max_body) +
                        " bytes; nothing was recorded");
      }
      if (!write_st.ok()) return Fail(req, res, StoreErrorStatus(write_st), write_st.ToString());
      return Fail(req, res, 400,
                  "the body ended after " + std::to_string(received) +
                      " bytes (the client went away?); nothing was recorded");
    }
    ledger::RecordInfo info;
    st = writer->Commit(&info);
    if (!st.ok()) {
      index_->Unreserve(id);
      return Fail(req, res, StoreErrorStatus(st), st.ToString());
    }
    index_->Seal(id, info);
    spdlog::info("record {} \"{}\" ({} bytes) from {}", info.index,
                 ledger::EscapeRecordPath(info.path), info.size, Remote(req));
    res.status = 201;
    res.set_header("Location", req.target.substr(0, req.target.find('?')));
    res.set_header("ETag", "\"" + info.sha256_hex + "\"");
    res.set_content(RecordCreatedJson(info), kJson);
  }

  // --- Proofs ---

  // The latest checkpoint once it covers `needed` entries, waiting up to proof_wait for the
  // publisher when they are committed but not yet covered. False (and answered) otherwise.
  bool CheckpointCovering(const httplib::Request& req, httplib::Response& res, uint64_t needed,
                          std::string* note, ledger::Checkpoint* cp) {
    const auto deadline = std::chrono::steady_clock::now() + config_.proof_wait;
    for (;;) {
      ledger::Status st = log_->LatestCheckpoint(note, cp);
      if (!st.ok()) {
        Fail(req, res, 500, st.ToString());
        return false;
      }
      if (cp->size >= needed) return true;
      if (needed > log_->committed_size()) {
        Fail(req, res, 404, "the log has " + std::to_string(log_->committed_size()) + " entries");
        return false;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        res.set_header("Retry-After", "1");
        Fail(req, res, 503,
             "the checkpoint does not cover entry " + std::to_string(needed - 1) + " yet");
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // The checkpoint a proof is made against: the latest (which CheckpointCovering gave), or, when
  // `size`/`to` names an earlier size, the checkpoint of that size remade by the log (identical
  // to the one published then). False (and answered) if the size cannot be served.
  bool CheckpointOfSize(const httplib::Request& req, httplib::Response& res,
                        std::optional<uint64_t> wanted, std::string* note, ledger::Checkpoint* cp) {
    if (!wanted || *wanted == cp->size) return true;
    ledger::Status st = log_->CheckpointAt(*wanted, note, cp);
    if (!st.ok()) Fail(req, res, StoreErrorStatus(st) == 400 ? 404 : 500, st.ToString());
    return st.ok();
  }

  void SendProof(const httplib::Request& req, httplib::Response& res, const ledger::Status& st,
                 std::string text) {
    if (!st.ok()) return Fail(req, res, StoreErrorStatus(st) == 400 ? 404 : 500, st.ToString());
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::move(text), kText);
  }

  void GetInclusion(const httplib::Request& req, httplib::Response& res,
                    const QueryParams& params) {
    std::optional<uint64_t> index, size;
    if (!Number(req, res, params, "index", &index) || !Number(req, res, params, "size", &size)) {
      return;
    }
    if (!index) return Fail(req, res, 400, "index is required");
    if (*index == UINT64_MAX) return Fail(req, res, 404, "index is beyond the log");
    if (size && *size <= *index) {
      return Fail(req, res, 400,
                  "size=" + std::to_string(*size) + " does not hold index " +
                      std::to_string(*index) + " (size must be above the index)");
    }
    std::string note;
    ledger::Checkpoint cp;
    if (!CheckpointCovering(req, res, std::max(*index + 1, size.value_or(0)), &note, &cp)) return;
    if (!CheckpointOfSize(req, res, size, &note, &cp)) return;
    std::string text;
    ledger::Status st = ledger::BuildInclusionProof(storage_, cp, note, *index, &text);
    SendProof(req, res, st, std::move(text));
  }

  void GetConsistency(const httplib::Request& req, httplib::Response& res,
                      const QueryParams& params) {
    std::optional<uint64_t> from, to;
    if (!Number(req, res, params, "from", &from) || !Number(req, res, params, "to", &to)) return;
    if (!from) return Fail(req, res, 400, "from is required");
    if (*from == 0)
      return Fail(req, res, 400, "from must be at least 1 (every tree extends the empty one)");
    if (to && *to < *from) {
      return Fail(req, res, 400,
                  "to=" + std::to_string(*to) + " is below from=" + std::to_string(*from));
    }
    std::string note;
    ledger::Checkpoint cp;
    if (!CheckpointCovering(req, res, std::max(*from, to.value_or(0)), &note, &cp)) return;
    if (!CheckpointOfSize(req, res, to, &note, &cp)) return;
    std::string text;
    ledger::Status st = ledger::BuildConsistencyProof(storage_, cp, note, *from, &text);
    SendProof(req, res, st, std::move(text));
  }

  ledger::Log* const log_;
  ledger::Storage* const storage_;
  ledger::RecordIndex* const index_;
  ledger::Records records_;
  const TenantApiConfig config_;
  TileCache tiles_;
};

TenantApi::TenantApi(ledger::Log* log, ledger::Storage* storage, ledger::RecordIndex* index,
                     TenantApiConfig config)
    : impl_(std::make_unique<Impl>(log, storage, index, std::move(config))) {}
TenantApi::~TenantApi() = default;

void TenantApi::Install(httplib::Server* server) {
  impl_->Install(server);
}

const TenantApiConfig& TenantApi::config() const {
  return impl_->config();
}

}  // namespace http
