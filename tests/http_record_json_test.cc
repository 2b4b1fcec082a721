// The JSON that GET /records, POST /records and every error answer (http/record_json.h), parsed
// back with nlohmann and checked field by field against docs/http.md. Manifests are written by
// hand and base64 values were computed outside the ledger code.
#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "http/record_json.h"
#include "ledger/records.h"
#include "nlohmann/json.hpp"
#include "support/require_ok.h"

namespace {

using nlohmann::json;

const std::string kDigest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const std::string kTime = "2026-11-26T09:14:03.518Z";

std::string FileManifest(const std::string& escaped_path, uint64_t size) {
  return "service-fs/record/v1\nkind file\npath " + escaped_path + "\nsize " +
         std::to_string(size) + "\nsha256 " + kDigest + "\nreceived " + kTime + "\n";
}
std::string DirManifest(const std::string& escaped_path) {
  return "service-fs/record/v1\nkind directory\npath " + escaped_path + "\nreceived " + kTime +
         "\n";
}

std::set<std::string> Keys(const json& j) {
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  return keys;
}

json Parse(const std::string& text) {
  INFO(text);
  json j;
  REQUIRE_NOTHROW(j = json::parse(text));  // strict: invalid UTF-8 in the text would throw
  return j;
}

// U+FFFD REPLACEMENT CHARACTER in UTF-8.
const std::string kReplacement = "\xef\xbf\xbd";

}  // namespace

TEST_CASE("RecordPageJson: files, folders and other entries with the documented fields", "[http]") {
  const std::vector<std::string> entries = {
      FileManifest("invoices/2026/0042.pdf", 48213),
      DirManifest("invoices"),
      "not a manifest",
      std::string("\0\xff\xfe bin\n", 8),
      "service-fs/record/v1\nkind file\n",  // looks like a manifest, but is not one
      "",
  };
  // The hand-written manifests are real ones.
  ledger::RecordInfo info;
  REQUIRE_OK(ledger::ParseManifest(entries[0], &info));
  REQUIRE_OK(ledger::ParseManifest(entries[1], &info));

  json page = Parse(http::RecordPageJson(40, entries, 46, 58));
  REQUIRE(page.is_object());
  CHECK(Keys(page) == std::set<std::string>{"entries", "next", "size"});
  CHECK(page["next"].is_number_unsigned());
  CHECK(page["next"].get<uint64_t>() == 46);
  CHECK(page["size"].get<uint64_t>() == 58);
  REQUIRE(page["entries"].is_array());
  REQUIRE(page["entries"].size() == entries.size());

  json& file = page["entries"][0];
  CHECK(Keys(file) == std::set<std::string>{"index", "kind", "path", "received", "sha256", "size"});
  CHECK(file["index"].get<uint64_t>() == 40);
  CHECK(file["kind"] == "file");
  CHECK(file["path"] == "invoices/2026/0042.pdf");
  CHECK(file["size"].is_number_unsigned());
  CHECK(file["size"].get<uint64_t>() == 48213);
  CHECK(file["sha256"] == kDigest);
  CHECK(file["received"] == kTime);

  json& dir = page["entries"][1];
  CHECK(Keys(dir) == std::set<std::string>{"index", "kind", "path", "received"});
  CHECK(dir["index"].get<uint64_t>() == 41);
  CHECK(dir["kind"] == "directory");
  CHECK(dir["path"] == "invoices");
  CHECK(dir["received"] == kTime);

  const char* base64[] = {
      "bm90IGEgbWFuaWZlc3Q=", "AP/+IGJpbgo=", "c2VydmljZS1mcy9yZWNvcmQvdjEKa2luZCBmaWxlCg==", ""};
  for (size_t i = 2; i < entries.size(); ++i) {
    INFO("entry " << i);
    json& other = page["entries"][i];
    CHECK(Keys(other) == std::set<std::string>{"entry_base64", "index"});
    CHECK(other["index"].get<uint64_t>() == 40 + i);
    CHECK(other["entry_base64"] == base64[i - 2]);
  }
}

TEST_CASE("RecordPageJson: an empty page and indices near 2^64", "[http]") {
  json empty = Parse(http::RecordPageJson(7, {}, 7, 7));
  REQUIRE(empty["entries"].is_array());
  CHECK(empty["entries"].empty());
  CHECK(empty["next"].get<uint64_t>() == 7);
  CHECK(empty["size"].get<uint64_t>() == 7);

  const uint64_t since = UINT64_MAX - 2;
  json big = Parse(http::RecordPageJson(since, {"x", DirManifest("d")}, UINT64_MAX, UINT64_MAX));
  REQUIRE(big["entries"].size() == 2);
  CHECK(big["entries"][0]["index"].get<uint64_t>() == UINT64_MAX - 2);
  CHECK(big["entries"][1]["index"].get<uint64_t>() == UINT64_MAX - 1);
  CHECK(big["next"].get<uint64_t>() == UINT64_MAX);
  CHECK(big["size"].get<uint64_t>() == UINT64_MAX);
  // Large sizes stay exact integers (no floating point on the way).
  json huge = Parse(http::RecordPageJson(0, {FileManifest("h", 18446744073709551615ull)}, 1, 1));
  CHECK(huge["entries"][0]["size"].get<uint64_t>() == 18446744073709551615ull);
}

TEST_CASE("RecordPageJson: paths are unescaped, and bytes that are not UTF-8 become U+FFFD",
          "[http]") {
  const std::vector<std::string> entries = {
      FileManifest("a%FFb", 1),                     // invalid UTF-8 in the name
      DirManifest("%C3("),                          // 0xC3 then '(': an invalid 2-byte sequence
      FileManifest("odd%20dir/x%25y\"z\\", 2),      // space, '%', quote, backslash
      FileManifest("line%0Abreak%09tab", 3),        // control bytes
      FileManifest("caf\xc3\xa9/\xe2\x82\xac", 4),  // valid UTF-8 stays as it is
  };
  ledger::RecordInfo info;
  for (const std::string& m : entries) {
    INFO(m);
    REQUIRE_OK(ledger::ParseManifest(m, &info));
  }
  std::string text;
  REQUIRE_NOTHROW(text = http::RecordPageJson(0, entries, 5, 5));
  json page = Parse(text);
  REQUIRE(page["entries"].size() == 5);
  CHECK(page["entries"][0]["path"] == "a" + kReplacement + "b");
  CHECK(page["entries"][0]["kind"] == "file");
  const std::string p1 = page["entries"][1]["path"].get<std::string>();
  CHECK(p1.find(kReplacement) == 0);  // 0xC3 is replaced; '(' may follow it
  CHECK(p1.find('(') != std::string::npos);
  CHECK(page["entries"][2]["path"] == "odd dir/x%y\"z\\");
  CHECK(page["entries"][3]["path"] == "line\nbreak\ttab");
  CHECK(page["entries"][4]["path"] == "caf\xc3\xa9/\xe2\x82\xac");
}

TEST_CASE("RecordCreatedJson has the documented fields", "[http]") {
  ledger::RecordInfo info;
  info.kind = ledger::RecordInfo::Kind::kFile;
  info.index = 57;
  info.path = "invoices/2026/0042.pdf";
  info.size = 48213;
  info.sha256_hex = kDigest;
  info.received = kTime;
  json j = Parse(http::RecordCreatedJson(info));
  CHECK(Keys(j) == std::set<std::string>{"index", "path", "received", "sha256", "size"});
  CHECK(j["index"].get<uint64_t>() == 57);
  CHECK(j["path"] == "invoices/2026/0042.pdf");
  CHECK(j["size"].get<uint64_t>() == 48213);
  CHECK(j["sha256"] == kDigest);
  CHECK(j["received"] == kTime);

  // A name made through the mount may not be UTF-8; the answer must still be valid JSON.
  info.path = std::string("bad\xff\xfe/\xc0\xaf", 8);
  info.index = UINT64_MAX;
  info.size = 0;
  std::string text;
  REQUIRE_NOTHROW(text = http::RecordCreatedJson(info));
  json bad = Parse(text);
  const std::string path = bad["path"].get<std::string>();
  CHECK(path.substr(0, 3) == "bad");
  CHECK(path.find(kReplacement) == 3);
  CHECK(path.find('/') != std::string::npos);
  CHECK(path.find('\xff') == std::string::npos);
  CHECK(bad["index"].get<uint64_t>() == UINT64_MAX);
  CHECK(bad["size"].get<uint64_t>() == 0);
}

TEST_CASE("ErrorJson is {error, status}", "[http]") {
  const std::string msg = "X-Module-ID \"beta\" names another tenant; this daemon serves \"acme\"";
  json j = Parse(http::ErrorJson(403, msg));
  CHECK(Keys(j) == std::set<std::string>{"error", "status"});
  CHECK(j["error"] == msg);
  CHECK(j["status"].is_number_integer());
  CHECK(j["status"].get<int>() == 403);

  for (int status : {400, 404, 405, 409, 411, 413, 416, 500, 503, 507}) {
    INFO(status);
    json e = Parse(http::ErrorJson(status, "why"));
    CHECK(e["status"].get<int>() == status);
    CHECK(e["error"] == "why");
  }

  // A message quoting a client's bytes that are not UTF-8 still gives valid JSON.
  std::string text;
  REQUIRE_NOTHROW(text = http::ErrorJson(400, std::string("no resource at \"/\xff\x80\"")));
  json bad = Parse(text);
  const std::string err = bad["error"].get<std::string>();
  CHECK(err.find("no resource at") == 0);
  CHECK(err.find(kReplacement) != std::string::npos);
  CHECK(bad["status"].get<int>() == 400);
  // Control characters and an empty message.
  CHECK(Parse(http::ErrorJson(500, std::string("a\0b\n", 4)))["error"] == std::string("a\0b\n", 4));
  CHECK(Parse(http::ErrorJson(500, ""))["error"] == "");
}

TEST_CASE("RecordKindName names both kinds", "[http]") {
  CHECK(std::string(http::RecordKindName(ledger::RecordInfo::Kind::kFile)) == "file");
  CHECK(std::string(http::RecordKindName(ledger::RecordInfo::Kind::kDirectory)) == "directory");
}
