// Records: path rules, the manifest's exact bytes and strict parsing, and content streamed into a
// real PosixStorage store (bytes and digests checked against OpenSSL, not against ledger code).
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/posix_storage.h"
#include "ledger/records.h"
#include "support/require_ok.h"
#include "support/test_data.h"

namespace {

namespace stdfs = std::filesystem;  // not "fs": that is the FUSE layer's namespace
using ledger::Log;
using ledger::RecordInfo;
using ledger::Records;
using ledger::RecordWriter;
using ledger::Status;

constexpr char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kXSha[] = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";

// SHA-256 through OpenSSL directly, so the digests under test are checked independently.
class OpenSslSha256 {
 public:
  OpenSslSha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~OpenSslSha256() { EVP_MD_CTX_free(ctx_); }
  void Update(std::string_view d) { EVP_DigestUpdate(ctx_, d.data(), d.size()); }
  std::string HexDigest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    std::string hex;
    char two[3];
    for (unsigned int i = 0; i < len; ++i) {
      std::snprintf(two, sizeof two, "%02x", md[i]);
      hex += two;
    }
    return hex;
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string Sha256Hex(std::string_view d) {
  OpenSslSha256 h;
  h.Update(d);
  return h.HexDigest();
}

// Deterministic pseudo-random bytes (xorshift64), so large content can be regenerated to compare
// instead of being kept in memory.
class ByteSource {
 public:
  explicit ByteSource(uint64_t seed) : state_(seed) {}
  void Fill(std::string* buf) {
    for (size_t i = 0; i < buf->size(); i += 8) {
      state_ ^= state_ << 13;
      state_ ^= state_ >> 7;
      state_ ^= state_ << 17;
      std::memcpy(buf->data() + i, &state_, std::min<size_t>(8, buf->size() - i));
    }
  }

 private:
  uint64_t state_;
};

using ledger::testing::ReadFile;

// A fresh store in a temporary folder with a log opened without a background publisher.
class TestStore {
 public:
  TestStore() {
    std::string tmpl = (stdfs::temp_directory_path() / "records_test.XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    REQUIRE_OK(ledger::OpenPosixStorage(dir_.string(), true, &storage_));
    REQUIRE_OK(ledger::NoteSigner::Generate("example.com/test", &signer_));
    REQUIRE_OK(Log::Create(storage_.get(), signer_));
    Reopen();
  }
  ~TestStore() {
    records_.reset();
    log_.reset();
    storage_.reset();
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
  }

  void Reopen() {
    records_.reset();
    log_.reset();
    ledger::LogOptions opts;
    opts.background_publish = false;
    REQUIRE_OK(Log::Open(storage_.get(), signer_, opts, &log_));
    records_ = std::make_unique<Records>(log_.get(), storage_.get());
  }

  // Issued staged objects (unissued pool files are hidden by Storage::List).
  std::vector<std::string> Staged() {
    std::vector<std::string> names;
    Status st = storage_->List(ledger::store_layout::kStagingDir, &names);
    if (st.code() == Status::Code::kNotFound) return {};
    REQUIRE_OK(st);
    return names;
  }

  std::vector<std::string> Entries() {
    std::vector<std::string> entries;
    uint64_t next = 0;
    REQUIRE_OK(log_->ReadSince(0, 1000, &entries, &next));
    REQUIRE(next == entries.size());
    return entries;
  }

  Status WriteRecord(const std::string& path, std::string_view content, RecordInfo* info) {
    std::unique_ptr<RecordWriter> w;
    LEDGER_RETURN_IF_ERROR(records_->BeginFile(path, &w));
    LEDGER_RETURN_IF_ERROR(w->Write(content));
    return w->Commit(info);
  }

  stdfs::path Disk(const std::string& name) const { return dir_ / name; }

  stdfs::path dir_;
  std::unique_ptr<ledger::Storage> storage_;
  ledger::NoteSigner signer_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<Records> records_;
};

RecordInfo FileInfo(std::string path) {
  RecordInfo i;
  i.kind = RecordInfo::Kind::kFile;
  i.path = std::move(path);
  i.size = 5;
  i.sha256_hex = kXSha;
  i.received = "2026-11-25T21:54:35.123Z";
  return i;
}

}  // namespace

TEST_CASE("ValidateRecordPath accepts relative paths and names what is wrong", "[records]") {
  CHECK(ledger::ValidateRecordPath("a").ok());
  CHECK(ledger::ValidateRecordPath("dir/sub/file name.txt").ok());
  CHECK(ledger::ValidateRecordPath("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac").ok());
  CHECK(ledger::ValidateRecordPath("...").ok());  // only "." and ".." are special
  CHECK(ledger::ValidateRecordPath(std::string(255, 'c') + "/" + std::string(255, 'c')).ok());
  std::string max_path;
  while (max_path.size() + 101 <= 4096) max_path += std::string(100, 'p') + "/";
  max_path += std::string(4096 - max_path.size(), 'q');
  REQUIRE(max_path.size() == 4096);
  CHECK(ledger::ValidateRecordPath(max_path).ok());

  struct Case {
    std::string path;
    std::string reason;
  };
  const std::vector<Case> bad = {
      {"", "record path is empty"},
      {"/etc/passwd", "path must be relative"},
      {"a/../b", "path component '..' is not allowed"},
      {"..", "path component '..' is not allowed"},
      {"./a", "path component '.' is not allowed"},
      {"a//b", "empty component"},
      {"a/", "empty component"},
      {std::string("a\0b", 3), "NUL byte"},
      {std::string(256, 'c'), "path component of 256 bytes exceeds the 255-byte limit"},
      {max_path + "q", "path of 4097 bytes exceeds the 4,096-byte limit"},
  };
  for (const Case& c : bad) {
    const Status st = ledger::ValidateRecordPath(c.path);
    INFO(c.path << " -> " << st.ToString());
    CHECK(st.code() == Status::Code::kInvalidArgument);
    CHECK(st.message().find(c.reason) != std::string::npos);
  }
}

TEST_CASE("Manifest bytes are exactly the documented form", "[records]") {
  RecordInfo f = FileInfo("dir/a b%.txt");
  CHECK(ledger::FormatManifest(f) ==
        "service-fs/record/v1\n"
        "kind file\n"
        "path dir/a%20b%25.txt\n"
        "size 5\n"
        "sha256 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n"
        "received 2026-11-25T21:54:35.123Z\n");
  RecordInfo d;
  d.kind = RecordInfo::Kind::kDirectory;
  d.path = "photos/2026";
  d.received = "2026-01-02T03:04:05.006Z";
  CHECK(ledger::FormatManifest(d) ==
        "service-fs/record/v1\nkind directory\npath photos/2026\n"
        "received 2026-01-02T03:04:05.006Z\n");
  CHECK(ledger::ContentName(kXSha) == std::string("content/2d/") + kXSha);
}

TEST_CASE("Path escaping covers controls, '%', and invalid UTF-8 only", "[records]") {
  struct Case {
    std::string raw;
    std::string escaped;
  };
  const std::vector<Case> cases = {
      {"a b", "a%20b"},
      {"100%", "100%25"},
      {"line\nbreak\r", "line%0Abreak%0D"},
      {"tab\there\x01", "tab%09here%01"},
      {"del\x7f", "del%7F"},
      {"caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac", "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac"},
      {"smile\xf0\x9f\x98\x80", "smile\xf0\x9f\x98\x80"},
      {"~!\"#$&'()*+,:;<=>?@[\\]^_`{|}", "~!\"#$&'()*+,:;<=>?@[\\]^_`{|}"},
      {"bad\xff\xfe", "bad%FF%FE"},
      {"cut\xc3", "cut%C3"},
      {"cut\xe6\x97", "cut%E6%97"},
      {"overlong\xc0\xaf", "overlong%C0%AF"},
      {"overlong\xe0\x80\xaf", "overlong%E0%80%AF"},
      {"surrogate\xed\xa0\x80", "surrogate%ED%A0%80"},
      {"toobig\xf4\x90\x80\x80", "toobig%F4%90%80%80"},
      {"\x80\xc3\xa9", "%80\xc3\xa9"},  // a stray continuation byte, then a valid sequence
  };
  for (const Case& c : cases) {
    INFO(c.escaped);
    CHECK(ledger::EscapeRecordPath(c.raw) == c.escaped);
    std::string back;
    REQUIRE_OK(ledger::UnescapeRecordPath(c.escaped, &back));
    CHECK(back == c.raw);

    for (auto kind : {RecordInfo::Kind::kFile, RecordInfo::Kind::kDirectory}) {
      RecordInfo in = FileInfo(c.raw);
      in.kind = kind;
      if (kind == RecordInfo::Kind::kDirectory) {
        in.size = 0;
        in.sha256_hex.clear();
      }
      const std::string m = ledger::FormatManifest(in);
      CHECK(m.find("\npath " + c.escaped + "\n") != std::string::npos);
      RecordInfo out;
      REQUIRE_OK(ledger::ParseManifest(m, &out));
      CHECK(out.kind == in.kind);
      CHECK(out.path == in.path);
      CHECK(out.size == in.size);
      CHECK(out.sha256_hex == in.sha256_hex);
      CHECK(out.received == in.received);
    }
  }
}

TEST_CASE("ParseManifest refuses anything but the canonical form", "[records]") {
  const std::string good = ledger::FormatManifest(FileInfo("a"));
  RecordInfo out;
  REQUIRE_OK(ledger::ParseManifest(good, &out));

  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string m = good;
    const size_t at = m.find(from);
    REQUIRE(at != std::string::npos);
    return m.replace(at, from.size(), to);
  };
  const std::string sha_line = std::string("sha256 ") + kXSha + "\n";
  const std::vector<std::string> bad = {
      "",
      "service-fs/record/v1\n",
      replaced("record/v1", "record/v2"),
      good.substr(0, good.size() - 1),  // no final newline
      good + "extra x\n",
      good + "\n",
      replaced("kind file", "kind symlink"),
      replaced("kind file", "kind  file"),
      replaced("kind file\n", "kind file\r\n"),
      replaced("kind file", "kind directory"),  // a directory has no size or sha256
      replaced("size 5\n", ""),
      replaced("size 5\n" + sha_line, sha_line + "size 5\n"),
      replaced("size 5", "size 05"),
      replaced("size 5", "size -5"),
      replaced("size 5", "size 5.0"),
      replaced("size 5", "size "),
      replaced("size 5", "size 18446744073709551616"),
      replaced(kXSha, std::string(kXSha).substr(1)),
      replaced(kXSha, std::string(kXSha) + "0"),
      replaced(kXSha, "2D711642B726B04401627CA9FBAC32F5C8530FB1903CC4DB02258717921A4881"),
      replaced("path a", "path a%2a"),       // lowercase hex
      replaced("path a", "path a%2"),        // truncated escape
      replaced("path a", "path a%G0"),       // not hex
      replaced("path a", "path %61"),        // escapes a byte that needs none
      replaced("path a", "path caf%C3%A9"),  // escapes valid UTF-8
      replaced("path a", "path a b"),        // raw space
      replaced("path a", "path a\xff"),      // raw invalid UTF-8
      replaced("path a", "path ../a"),
      replaced("path a", "path /a"),
      replaced("path a", "path a//b"),
      replaced("path a", "path a%00b"),
      replaced("path a", "path "),
      replaced(".123Z", "Z"),
      replaced(".123Z", ".1234Z"),
      replaced(".123Z", ".123+00:00"),
      replaced(".123Z", ".123z"),
      replaced("2026-11-25T", "2026-11-25 "),
      replaced("2026-11-25", "2026-13-25"),
      replaced("2026-11-25", "2026-02-29"),  // 2026 is not a leap year
      replaced("2026-11-25", "2026-04-31"),
      replaced("21:54:35", "24:00:00"),
      replaced("21:54:35", "21:60:35"),
  };
  for (const std::string& m : bad) {
    const Status st = ledger::ParseManifest(m, &out);
    INFO(ledger::EscapeRecordPath(m) << " -> " << st.ToString());
    CHECK(st.code() == Status::Code::kCorruption);
    CHECK(!st.message().empty());
  }
  CHECK(ledger::ParseManifest(replaced("2026-11-25", "2024-02-29"), &out).ok());
  CHECK(ledger::ParseManifest(replaced("path a", "path a/b%20c/\xc3\xa9"), &out).ok());
  CHECK(out.path == "a/b c/\xc3\xa9");

  const Status st = ledger::ParseManifest(replaced("path a", "path a/../b"), &out);
  CHECK(st.message().find("path component '..' is not allowed") != std::string::npos);
}

TEST_CASE("Rfc3339Now gives a UTC time the parser accepts", "[records]") {
  RecordInfo i = FileInfo("a");
  i.received = ledger::Rfc3339Now();
  CHECK(i.received.size() == 24);
  CHECK(i.received.back() == 'Z');
  RecordInfo out;
  REQUIRE_OK(ledger::ParseManifest(ledger::FormatManifest(i), &out));
  CHECK(out.received == i.received);
}

TEST_CASE("0-byte and 1-byte records are stored under their digest", "[records]") {
  TestStore s;
  RecordInfo empty, one;
  {
    std::unique_ptr<RecordWriter> w;
    REQUIRE_OK(s.records_->BeginFile("empty.txt", &w));
    CHECK(w->size() == 0);
    REQUIRE_OK(w->Commit(&empty));
    CHECK(w->Write("late").code() == Status::Code::kInvalidArgument);
  }
  REQUIRE_OK(s.WriteRecord("dir/one.txt", "x", &one));

  CHECK(empty.kind == RecordInfo::Kind::kFile);
  CHECK(empty.path == "empty.txt");
  CHECK(empty.size == 0);
  CHECK(empty.sha256_hex == kEmptySha);
  CHECK(empty.index == 0);
  CHECK(one.size == 1);
  CHECK(one.sha256_hex == kXSha);
  CHECK(one.index == 1);
  CHECK(s.log_->committed_size() == 2);

  // Committed but not yet published: the log already serves the manifests.
  std::vector<std::string> entries = s.Entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0] == ledger::FormatManifest(empty));
  CHECK(entries[1] == ledger::FormatManifest(one));

  REQUIRE_OK(s.log_->Publish());
  CHECK(s.log_->published_size() == 2);
  CHECK(s.Entries() == entries);
  const stdfs::path e = s.Disk(std::string("content/e3/") + kEmptySha);
  const stdfs::path x = s.Disk(std::string("content/2d/") + kXSha);
  REQUIRE(stdfs::exists(e));
  CHECK(stdfs::file_size(e) == 0);
  CHECK(ReadFile(x) == "x");
  CHECK(s.Staged().empty());
  for (uint64_t i = 0; i < entries.size(); ++i) {
    REQUIRE_OK(Records::CheckEntryContent(s.storage_.get(), i, entries[i]));
  }
}

TEST_CASE("A 64 MiB record is streamed from a descriptor byte for byte", "[records]") {
  TestStore s;
  constexpr size_t kChunk = 1 << 20;
  constexpr int kChunks = 64;
  constexpr uint64_t kSeed = 0x9E3779B97F4A7C15ull;

  std::string src = (stdfs::temp_directory_path() / "records_src.XXXXXX").string();
  const int fd = ::mkstemp(src.data());
  REQUIRE(fd >= 0);
  OpenSslSha256 expect;
  {
    ByteSource gen(kSeed);
    std::string buf(kChunk, '\0');
    for (int i = 0; i < kChunks; ++i) {
      gen.Fill(&buf);
      expect.Update(buf);
      REQUIRE(::write(fd, buf.data(), buf.size()) == static_cast<ssize_t>(buf.size()));
    }
  }
  const std::string expect_hex = expect.HexDigest();
  REQUIRE(::lseek(fd, 0, SEEK_SET) == 0);
  RecordInfo info;
  const Status st = s.records_->AppendFromFd("big/data.bin", fd, &info);
  ::close(fd);
  ::unlink(src.c_str());
  REQUIRE_OK(st);

  CHECK(info.size == uint64_t{kChunk} * kChunks);
  CHECK(info.sha256_hex == expect_hex);
  REQUIRE_OK(s.log_->Publish());
  CHECK(s.Staged().empty());

  std::vector<std::string> entries = s.Entries();
  REQUIRE(entries.size() == 1);
  RecordInfo parsed;
  REQUIRE_OK(ledger::ParseManifest(entries[0], &parsed));
  CHECK(parsed.path == "big/data.bin");
  CHECK(parsed.size == info.size);
  CHECK(parsed.sha256_hex == expect_hex);

  const stdfs::path content = s.Disk(ledger::ContentName(expect_hex));
  REQUIRE(stdfs::exists(content));
  CHECK(stdfs::file_size(content) == info.size);
  std::ifstream in(content, std::ios::binary);
  ByteSource gen(kSeed);
  std::string want(kChunk, '\0'), got(kChunk, '\0');
  bool same = true;
  for (int i = 0; i < kChunks && same; ++i) {
    gen.Fill(&want);
    in.read(got.data(), static_cast<std::streamsize>(got.size()));
    same = in.gcount() == static_cast<std::streamsize>(kChunk) && got == want;
  }
  CHECK(same);
  REQUIRE_OK(Records::CheckEntryContent(s.storage_.get(), 0, entries[0]));
}

TEST_CASE("Identical content is stored once", "[records]") {
  TestStore s;
  const std::string sha = "abb7f0ae43ba52cc56233a5ecb4dfa11765f26b1282a18346d811b6a85af19c1";
  RecordInfo a, b, c;
  REQUIRE_OK(s.WriteRecord("a.txt", "same bytes\n", &a));
  REQUIRE_OK(s.WriteRecord("copy/a.txt", "same bytes\n", &b));
  CHECK(a.sha256_hex == sha);
  CHECK(b.sha256_hex == sha);
  CHECK(a.index != b.index);
  REQUIRE_OK(s.log_->Publish());

  auto content_files = [&] {
    std::vector<std::string> folders, files;
    REQUIRE_OK(s.storage_->List("content", &folders));
    CHECK(folders == std::vector<std::string>{"ab"});
    REQUIRE_OK(s.storage_->List("content/ab", &files));
    return files;
  };
  CHECK(content_files() == std::vector<std::string>{sha});
  CHECK(s.Staged().empty());

  // Again once the content is already published.
  REQUIRE_OK(s.WriteRecord("third.txt", "same bytes\n", &c));
  REQUIRE_OK(s.log_->Publish());
  CHECK(content_files() == std::vector<std::string>{sha});
  CHECK(s.Staged().empty());
  CHECK(ReadFile(s.Disk(ledger::ContentName(sha))) == "same bytes\n");

  const std::vector<std::string> entries = s.Entries();
  REQUIRE(entries.size() == 3);
  for (uint64_t i = 0; i < entries.size(); ++i) {
    REQUIRE_OK(Records::CheckEntryContent(s.storage_.get(), i, entries[i]));
  }
}

TEST_CASE("Out-of-order writes give the digest of the final bytes", "[records]") {
  TestStore s;

  SECTION("overwrite inside a small file") {
    std::unique_ptr<RecordWriter> w;
    REQUIRE_OK(s.records_->BeginFile("hello.txt", &w));
    REQUIRE_OK(w->WriteAt(6, "world"));  // leaves a hole of 6 zero bytes first
    CHECK(w->size() == 11);
    REQUIRE_OK(w->WriteAt(0, "hello "));
    CHECK(w->size() == 11);
    RecordInfo info;
    REQUIRE_OK(w->Commit(&info));
    CHECK(info.size == 11);
    CHECK(info.sha256_hex == Sha256Hex("hello world"));
    REQUIRE_OK(s.log_->Publish());
    CHECK(ReadFile(s.Disk(ledger::ContentName(info.sha256_hex))) == "hello world");
  }

  SECTION("a hole that is never filled reads as zeros") {
    std::unique_ptr<RecordWriter> w;
    REQUIRE_OK(s.records_->BeginFile("sparse.bin", &w));
    REQUIRE_OK(w->WriteAt(4, "x"));
    RecordInfo info;
    REQUIRE_OK(w->Commit(&info));
    CHECK(info.sha256_hex == Sha256Hex(std::string("\0\0\0\0x", 5)));
  }

  SECTION("several MiB written back to front") {
    std::string data(3 * (1 << 20) + 17, '\0');
    ByteSource(42).Fill(&data);
    constexpr size_t kPiece = 256 << 10;
    std::unique_ptr<RecordWriter> w;
    REQUIRE_OK(s.records_->BeginFile("reversed.bin", &w));
    for (size_t off = (data.size() - 1) / kPiece * kPiece;; off -= kPiece) {
      REQUIRE_OK(w->WriteAt(off, std::string_view(data).substr(off, kPiece)));
      if (off == 0) break;
    }
    CHECK(w->size() == data.size());
    RecordInfo info;
    REQUIRE_OK(w->Commit(&info));
    CHECK(info.size == data.size());
    CHECK(info.sha256_hex == Sha256Hex(data));
    REQUIRE_OK(s.log_->Publish());
    CHECK(ReadFile(s.Disk(ledger::ContentName(info.sha256_hex))) == data);
    const std::vector<std::string> entries = s.Entries();
    REQUIRE_OK(Records::CheckEntryContent(s.storage_.get(), 0, entries.at(0)));
  }
  REQUIRE_OK(s.log_->Publish());
  CHECK(s.Staged().empty());
}

TEST_CASE("A 70,000-byte path is refused and nothing is appended", "[records]") {
  TestStore s;
  RecordInfo first;
  REQUIRE_OK(s.WriteRecord("first.txt", "x", &first));
  REQUIRE_OK(s.log_->Publish());
  const uint64_t size = s.log_->committed_size();
  const std::string path(70000, 'p');

  // Every entry point checks the path first.
  std::unique_ptr<RecordWriter> w;
  Status st = s.records_->BeginFile(path, &w);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK(st.message().find("path of 70000 bytes exceeds the 4,096-byte limit") != std::string::npos);
  CHECK(w == nullptr);
  RecordInfo info;
  st = s.records_->AppendDirectory(path, &info);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK(st.message().find("exceeds the 4,096-byte limit") != std::string::npos);
  st = s.records_->AppendFromFd(path, -1, &info);
  CHECK(st.code() == Status::Code::kInvalidArgument);

  // Past the path check, the manifest itself cannot be framed as a tlog-tiles entry.
  REQUIRE_OK(s.records_->BeginFileUnchecked(path, &w));
  REQUIRE_OK(w->Write("data"));
  CHECK(s.Staged().size() == 1);
  st = w->Commit(&info);
  INFO(st.ToString());
  CHECK(st.code() == Status::Code::kInvalidArgument);
  // 21 + 10 + (5 + 70000 + 1) + 7 + 72 + 34 bytes of manifest.
  CHECK(st.message().find("manifest of 70150 bytes exceeds the 65,535-byte entry limit") !=
        std::string::npos);
  CHECK(w->Commit(&info).code() == Status::Code::kInvalidArgument);  // no second attempt
  w.reset();

  CHECK(s.log_->committed_size() == size);
  CHECK(s.Staged().empty());
  REQUIRE_OK(s.log_->Publish());
  CHECK(s.log_->published_size() == size);
  s.Reopen();
  CHECK(s.log_->committed_size() == size);
  CHECK(s.Staged().empty());
  CHECK(s.Entries() == std::vector<std::string>{ledger::FormatManifest(first)});
}

TEST_CASE("Aborted and abandoned writers leave nothing behind", "[records]") {
  TestStore s;
  {
    std::unique_ptr<RecordWriter> w;
    REQUIRE_OK(s.records_->BeginFile("dropped.txt", &w));
    REQUIRE_OK(w->Write("never committed"));
    CHECK(s.Staged().size() == 1);
  }  // destroyed without Commit
  CHECK(s.Staged().empty());

  std::unique_ptr<RecordWriter> w;
  REQUIRE_OK(s.records_->BeginFile("aborted.txt", &w));
  REQUIRE_OK(w->Write("abc"));
  w->Abort();
  CHECK(s.Staged().empty());
  CHECK(w->Write("more").code() == Status::Code::kInvalidArgument);
  RecordInfo info;
  CHECK(w->Commit(&info).code() == Status::Code::kInvalidArgument);
  CHECK(s.log_->committed_size() == 0);
}

TEST_CASE("Directory records have no content", "[records]") {
  TestStore s;
  RecordInfo d;
  REQUIRE_OK(s.records_->AppendDirectory("photos/2026", &d));
  CHECK(d.kind == RecordInfo::Kind::kDirectory);
  CHECK(d.path == "photos/2026");
  CHECK(d.index == 0);
  RecordInfo e;
  REQUIRE_OK(s.records_->AppendDirectory("empty dir", &e));
  CHECK(e.index == 1);

  const Status st = s.records_->AppendDirectory("photos/../etc", &e);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK(st.message().find("path component '..' is not allowed") != std::string::npos);

  REQUIRE_OK(s.log_->Publish());
  const std::vector<std::string> entries = s.Entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0] ==
        "service-fs/record/v1\nkind directory\npath photos/2026\nreceived " + d.received + "\n");
  CHECK(entries[1] ==
        "service-fs/record/v1\nkind directory\npath empty%20dir\nreceived " + e.received + "\n");
  RecordInfo parsed;
  REQUIRE_OK(ledger::ParseManifest(entries[1], &parsed));
  CHECK(parsed.kind == RecordInfo::Kind::kDirectory);
  CHECK(parsed.path == "empty dir");
  REQUIRE_OK(Records::CheckEntryContent(s.storage_.get(), 0, entries[0]));
  CHECK(!s.storage_->Exists("content"));
}

TEST_CASE("CheckEntryContent names a damaged or missing content file", "[records]") {
  TestStore s;
  RecordInfo info;
  REQUIRE_OK(s.WriteRecord("doc.txt", "important text", &info));
  REQUIRE_OK(s.log_->Publish());
  const std::string entry = s.Entries().at(0);
  const std::string name = ledger::ContentName(info.sha256_hex);
  REQUIRE_OK(Records::CheckEntryContent(s.storage_.get(), 0, entry));

  // Entries that are not record manifests are not this check's business.
  CHECK(Records::CheckEntryContent(s.storage_.get(), 0, "some other entry\n").ok());
  // A manifest that does not parse is corruption of the entry.
  Status st =
      Records::CheckEntryContent(s.storage_.get(), 7, "service-fs/record/v1\nkind file\npath a\n");
  CHECK(st.code() == Status::Code::kCorruption);
  CHECK(st.message().find("(entry 7)") != std::string::npos);

  SECTION("a flipped byte") {
    const stdfs::path p = s.Disk(name);
    stdfs::permissions(p, stdfs::perms::owner_write, stdfs::perm_options::add);
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put(static_cast<char>('o' ^ 0x01));  // "imp" + 'o' -> 'n'
    f.close();
    CHECK(ReadFile(p) == "impnrtant text");
    st = Records::CheckEntryContent(s.storage_.get(), 0, entry);
    INFO(st.ToString());
    CHECK(st.code() == Status::Code::kCorruption);
    CHECK(st.message().find(name) != std::string::npos);
    CHECK(st.message().find("(entry 0)") != std::string::npos);
  }

  SECTION("a truncated file") {
    stdfs::resize_file(s.Disk(name), 3);
    st = Records::CheckEntryContent(s.storage_.get(), 0, entry);
    INFO(st.ToString());
    CHECK(st.code() == Status::Code::kCorruption);
    CHECK(st.message().find(name) != std::string::npos);
  }

  SECTION("a missing file") {
    REQUIRE(stdfs::remove(s.Disk(name)));
    st = Records::CheckEntryContent(s.storage_.get(), 0, entry);
    INFO(st.ToString());
    CHECK(st.code() == Status::Code::kCorruption);
    CHECK(st.message().find(name) != std::string::npos);
    CHECK(st.message().find("missing") != std::string::npos);
  }
}

TEST_CASE("ReadSince pages through record manifests", "[records]") {
  TestStore s;
  RecordInfo a, d, b;
  REQUIRE_OK(s.WriteRecord("a.txt", "alpha", &a));
  REQUIRE_OK(s.records_->AppendDirectory("dir", &d));
  REQUIRE_OK(s.WriteRecord("dir/b.txt", "beta", &b));
  const std::vector<RecordInfo> want = {a, d, b};

  auto check_pages = [&] {
    std::vector<std::string> page;
    uint64_t next = 0;
    for (uint64_t cursor = 0; cursor < want.size(); cursor = next) {
      REQUIRE_OK(s.log_->ReadSince(cursor, 1, &page, &next));
      REQUIRE(page.size() == 1);
      CHECK(next == cursor + 1);
      RecordInfo got;
      REQUIRE_OK(ledger::ParseManifest(page[0], &got));
      CHECK(got.kind == want[cursor].kind);
      CHECK(got.path == want[cursor].path);
      CHECK(got.size == want[cursor].size);
      CHECK(got.sha256_hex == want[cursor].sha256_hex);
      CHECK(got.received == want[cursor].received);
    }
    REQUIRE_OK(s.log_->ReadSince(3, 10, &page, &next));
    CHECK(page.empty());
    CHECK(next == 3);
  };
  check_pages();  // from the commit log's pending entries
  REQUIRE_OK(s.log_->Publish());
  check_pages();  // from the published bundle
  CHECK(b.sha256_hex == Sha256Hex("beta"));
}
