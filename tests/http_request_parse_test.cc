// The HTTP API's pure parsers (http/request_parse.h, http/listen_address.h) against the contract
// in docs/http.md: X-Module-ID, strict decimals, percent escapes, queries, UTF-8, routing (tiles,
// record paths and their rules), methods, and --listen addresses. Expected values are written out
// by hand from the contract, never computed with the code under test.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/listen_address.h"
#include "http/request_parse.h"
#include "ledger/status.h"
#include "support/require_ok.h"

namespace {

using http::ModuleIdCheck;
using http::Resource;
using http::Route;
using ledger::Status;

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// The status code MatchRoute gives `target`.
Status::Code RouteCode(std::string_view target) {
  Route r;
  return http::MatchRoute(target, &r).code();
}

}  // namespace

// --- X-Module-ID -------------------------------------------------------------------------------

TEST_CASE("CheckModuleId: a missing header is kMissing", "[http]") {
  CHECK(http::CheckModuleId(std::nullopt, "acme") == ModuleIdCheck::kMissing);
  // Present but empty is a malformed ID, not a missing header.
  CHECK(http::CheckModuleId(std::string_view(""), "acme") == ModuleIdCheck::kMalformed);
}

TEST_CASE("CheckModuleId: the tenant's own ID matches", "[http]") {
  CHECK(http::CheckModuleId(std::string_view("acme"), "acme") == ModuleIdCheck::kMatch);
  const std::string id64 = "a" + std::string(63, 'z');
  CHECK(http::CheckModuleId(std::string_view(id64), id64) == ModuleIdCheck::kMatch);
  CHECK(http::CheckModuleId(std::string_view("9.a_b-c"), "9.a_b-c") == ModuleIdCheck::kMatch);
  // IDs compare byte for byte: case matters.
  CHECK(http::CheckModuleId(std::string_view("ACME"), "acme") == ModuleIdCheck::kOtherTenant);
}

TEST_CASE("CheckModuleId: a well-formed other tenant is kOtherTenant", "[http]") {
  CHECK(http::CheckModuleId(std::string_view("beta"), "acme") == ModuleIdCheck::kOtherTenant);
  CHECK(http::CheckModuleId(std::string_view("acme2"), "acme") == ModuleIdCheck::kOtherTenant);
  CHECK(http::CheckModuleId(std::string_view("acm"), "acme") == ModuleIdCheck::kOtherTenant);
  CHECK(http::CheckModuleId(std::string_view("Z"), "acme") == ModuleIdCheck::kOtherTenant);
}

TEST_CASE("CheckModuleId: malformed IDs are kMalformed, even when they equal the tenant",
          "[http]") {
  const std::vector<std::string> bad = {
      "",
      std::string(65, 'a'),        // 65 bytes
      "a" + std::string(64, 'b'),  // 65 bytes
      ".acme",                     // leading '.'
      "-acme",                     // leading '-'
      "_acme",                     // leading '_'
      "ac me",                     // space
      " acme",                     // leading space
      "acme ",                     // trailing space
      "ac/me",                     // '/'
      "../acme",                   // traversal
      "acm\xc3\xa9",               // non-ASCII (é)
      Bytes({'a', 0xff}),          // a raw high byte
      std::string("ac\0me", 5),    // NUL
      "ac:me",                     // ':'
      "ac\tme",                    // tab
  };
  for (const std::string& id : bad) {
    INFO("id \"" << id << "\" (" << id.size() << " bytes)");
    CHECK(http::CheckModuleId(std::string_view(id), "acme") == ModuleIdCheck::kMalformed);
    // Malformed wins over "it names this tenant": the check is on the header alone.
    CHECK(http::CheckModuleId(std::string_view(id), id) == ModuleIdCheck::kMalformed);
  }
  // The boundary itself: exactly 64 bytes is fine.
  CHECK(http::CheckModuleId(std::string_view(std::string(64, 'a')), "acme") ==
        ModuleIdCheck::kOtherTenant);
}

// --- ParseDecimal --------------------------------------------------------------------------------

TEST_CASE("ParseDecimal accepts plain decimals up to 2^64-1", "[http]") {
  struct Case {
    const char* text;
    uint64_t value;
  };
  const Case cases[] = {
      {"0", 0},
      {"1", 1},
      {"9", 9},
      {"10", 10},
      {"1000", 1000},
      {"4294967296", 4294967296ull},
      {"18446744073709551614", 18446744073709551614ull},
      {"18446744073709551615", 18446744073709551615ull},
      {"10000000000000000000", 10000000000000000000ull},  // 20 digits, below the max
  };
  for (const Case& c : cases) {
    INFO(c.text);
    uint64_t v = 12345;
    REQUIRE(http::ParseDecimal(c.text, &v));
    CHECK(v == c.value);
  }
}

TEST_CASE("ParseDecimal refuses everything else and leaves the output alone", "[http]") {
  const std::vector<std::string> bad = {
      "",
      "18446744073709551616",   // 2^64
      "18446744073709551620",   // 20 digits over the max in the last digit
      "18446744073709551700",   // over the max in an earlier digit
      "99999999999999999999",   // 20 nines
      "100000000000000000000",  // 21 digits
      "000000000000000000001",  // 21 digits with leading zeros
      "00",
      "01",
      "007",
      "+",
      "-",
      ".",
      "/",
      ",",
      "+1",
      "-1",
      "-0",
      " 1",
      "1 ",
      "1 2",
      "1.0",
      "1e3",
      "0x10",
      "a",
      "12a",
      std::string("1\0", 2),
      "\xd9\xa1",  // ARABIC-INDIC DIGIT ONE
  };
  for (const std::string& s : bad) {
    INFO("\"" << s << "\"");
    uint64_t v = 777;
    CHECK_FALSE(http::ParseDecimal(s, &v));
    CHECK(v == 777);
  }
}

// --- PercentDecode -------------------------------------------------------------------------------

TEST_CASE("PercentDecode decodes %XX escapes once", "[http]") {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"plain", "plain"},
      {"a%20b", "a b"},
      {"a%2Fb", "a/b"},
      {"a%2fb", "a/b"},
      {"%41%42%43", "ABC"},
      {"%7e", "~"},
      {"%25", "%"},
      {"%2541", "%41"},  // decoded once, not twice
      {"a+b", "a+b"},    // '+' stays '+'
      {"%2B", "+"},
      {"%00", std::string("\0", 1)},
      {"%FF%fe", Bytes({0xff, 0xfe})},
      {"%c3%A9", "\xc3\xa9"},
      {"end%21", "end!"},
  };
  for (const Case& c : cases) {
    INFO("\"" << c.in << "\"");
    std::string out = "junk";
    REQUIRE_OK(http::PercentDecode(c.in, &out));
    CHECK(out == c.out);
  }
}

TEST_CASE("PercentDecode refuses truncated and non-hex escapes", "[http]") {
  for (const char* in : {"%", "%4", "a%4", "abc%", "%G1", "%1G", "%g0", "%%41", "% 41", "%-1",
                         "%+1", "%4%41", "ok%2", "%x0"}) {
    INFO("\"" << in << "\"");
    std::string out;
    const Status st = http::PercentDecode(in, &out);
    CHECK(st.code() == Status::Code::kInvalidArgument);
  }
}

// --- ParseQuery ----------------------------------------------------------------------------------

TEST_CASE("ParseQuery splits and decodes allowed parameters", "[http]") {
  const std::vector<std::string_view> allowed = {"since", "limit"};
  http::QueryParams p;

  REQUIRE_OK(http::ParseQuery("", allowed, &p));
  CHECK(p.empty());
  CHECK_FALSE(http::QueryValue(p, "since").has_value());

  REQUIRE_OK(http::ParseQuery("since=5&limit=10", allowed, &p));
  REQUIRE(p.size() == 2);
  CHECK(p[0] == std::make_pair(std::string("since"), std::string("5")));
  CHECK(p[1] == std::make_pair(std::string("limit"), std::string("10")));
  REQUIRE(http::QueryValue(p, "since").has_value());
  CHECK(*http::QueryValue(p, "since") == "5");
  CHECK(*http::QueryValue(p, "limit") == "10");
  CHECK_FALSE(http::QueryValue(p, "index").has_value());

  // The output is replaced, not appended to.
  REQUIRE_OK(http::ParseQuery("limit=3", allowed, &p));
  REQUIRE(p.size() == 1);
  CHECK(*http::QueryValue(p, "limit") == "3");
  CHECK_FALSE(http::QueryValue(p, "since").has_value());

  // Escapes are decoded in keys and values.
  REQUIRE_OK(http::ParseQuery("%73ince=%31%32&limit=a+b%20c", allowed, &p));
  REQUIRE(p.size() == 2);
  CHECK(*http::QueryValue(p, "since") == "12");
  CHECK(*http::QueryValue(p, "limit") == "a+b c");

  // An empty value is a value (the number check comes later, in the handler).
  REQUIRE_OK(http::ParseQuery("since=", allowed, &p));
  REQUIRE(p.size() == 1);
  REQUIRE(http::QueryValue(p, "since").has_value());
  CHECK(http::QueryValue(p, "since")->empty());

  // Only the first '=' splits.
  REQUIRE_OK(http::ParseQuery("since=1=2", allowed, &p));
  CHECK(*http::QueryValue(p, "since") == "1=2");
}

TEST_CASE("ParseQuery refuses unknown, repeated, valueless and badly escaped parameters",
          "[http]") {
  const std::vector<std::string_view> allowed = {"since", "limit"};
  const std::vector<std::string> bad = {
      "index=1",          // unknown
      "since=1&index=1",  // unknown after a good one
      "Since=1",          // keys are case-sensitive
      "since=1&since=2",  // repeated
      "since=1&limit=2&since=1",
      "%73ince=1&since=2",  // repeated, once escaped
      "since",              // no '='
      "since=1&limit",      // no '=' in the second part
      "since=1&",           // an empty part
      "&since=1",
      "since=1&&limit=2",
      "=1",         // empty key: not allowed
      "since=%G1",  // bad escape in the value
      "since=%4",   // truncated escape
      "si%6=1",     // bad escape in the key
  };
  for (const std::string& q : bad) {
    INFO("\"" << q << "\"");
    http::QueryParams p;
    CHECK(http::ParseQuery(q, allowed, &p).code() == Status::Code::kInvalidArgument);
  }
  // A resource that takes no parameters refuses any.
  http::QueryParams p;
  CHECK(http::ParseQuery("since=1", {}, &p).code() == Status::Code::kInvalidArgument);
  REQUIRE_OK(http::ParseQuery("", {}, &p));
}

// --- IsValidUtf8 ---------------------------------------------------------------------------------

TEST_CASE("IsValidUtf8 accepts well-formed UTF-8", "[http]") {
  const std::vector<std::string> good = {
      "",
      "plain ascii /path.txt",
      std::string("nul\0inside", 10),  // NUL is valid UTF-8 (the path rules refuse it elsewhere)
      Bytes({0x7f}),
      Bytes({0xc2, 0x80}),              // U+0080, the smallest 2-byte
      Bytes({0xc3, 0xa9}),              // é
      Bytes({0xdf, 0xbf}),              // U+07FF
      Bytes({0xe0, 0xa0, 0x80}),        // U+0800, the smallest 3-byte
      Bytes({0xe2, 0x82, 0xac}),        // €
      Bytes({0xed, 0x9f, 0xbf}),        // U+D7FF, just below the surrogates
      Bytes({0xee, 0x80, 0x80}),        // U+E000, just above them
      Bytes({0xef, 0xbf, 0xbf}),        // U+FFFF
      Bytes({0xf0, 0x90, 0x80, 0x80}),  // U+10000, the smallest 4-byte
      Bytes({0xf0, 0x9f, 0x98, 0x80}),  // 😀
      Bytes({0xf4, 0x8f, 0xbf, 0xbf}),  // U+10FFFF, the largest
      "a\xc3\xa9"
      "b\xe2\x82\xac"
      "c\xf0\x9f\x98\x80"
      "d",
  };
  for (const std::string& s : good) {
    INFO("case of " << s.size() << " bytes");
    CHECK(http::IsValidUtf8(s));
  }
}

TEST_CASE("IsValidUtf8 refuses overlongs, surrogates, out-of-range and broken sequences",
          "[http]") {
  const std::vector<std::string> bad = {
      Bytes({0xc0, 0xaf}),                          // overlong '/'
      Bytes({0xc1, 0xbf}),                          // overlong U+007F
      Bytes({0xc0, 0x80}),                          // overlong NUL
      Bytes({0xe0, 0x80, 0xaf}),                    // overlong '/' in 3 bytes
      Bytes({0xe0, 0x9f, 0xbf}),                    // overlong U+07FF
      Bytes({0xf0, 0x80, 0x80, 0xaf}),              // overlong '/' in 4 bytes
      Bytes({0xf0, 0x8f, 0xbf, 0xbf}),              // overlong U+FFFF
      Bytes({0xed, 0xa0, 0x80}),                    // U+D800, a high surrogate
      Bytes({0xed, 0xbf, 0xbf}),                    // U+DFFF, a low surrogate
      Bytes({0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80}),  // a CESU-8 surrogate pair
      Bytes({0xf4, 0x90, 0x80, 0x80}),              // U+110000
      Bytes({0xf5, 0x80, 0x80, 0x80}),              // lead byte beyond U+10FFFF
      Bytes({0xf7, 0xbf, 0xbf, 0xbf}),
      Bytes({0xf8, 0x88, 0x80, 0x80, 0x80}),  // old 5-byte form
      Bytes({0xfc, 0x84, 0x80, 0x80, 0x80, 0x80}),
      Bytes({0xfe}),
      Bytes({0xff}),
      Bytes({0x80}),  // a lone continuation byte
      Bytes({0xbf}),
      Bytes({'a', 0x80, 'b'}),
      Bytes({0xc3}),        // truncated 2-byte
      Bytes({0xe2, 0x82}),  // truncated 3-byte
      Bytes({0xe2}),
      Bytes({0xf0, 0x9f, 0x98}),  // truncated 4-byte
      Bytes({0xf0}),
      Bytes({0xc3, 'a'}),  // continuation missing mid-string
      Bytes({0xe2, 'a', 0xac}),
      Bytes({0xe2, 0x82, 'a'}),
      Bytes({0xf0, 0x9f, 0x98, 'a'}),
      Bytes({0xc3, 0xa9, 0xa9}),  // one continuation too many
      Bytes({0xc3, 0xc3, 0xa9}),
      "ok" + Bytes({0xf0, 0x9f, 0x98}),  // truncated at the very end
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    INFO("bad case #" << i);
    CHECK_FALSE(http::IsValidUtf8(bad[i]));
  }
}

// --- MatchRoute ----------------------------------------------------------------------------------

TEST_CASE("MatchRoute maps the fixed resources and splits off the query", "[http]") {
  struct Case {
    const char* target;
    Resource resource;
    const char* query;
  };
  const Case cases[] = {
      {"/checkpoint", Resource::kCheckpoint, ""},
      {"/checkpoint?x=1", Resource::kCheckpoint, "x=1"},
      {"/records", Resource::kRecordsPage, ""},
      {"/records?since=0&limit=2", Resource::kRecordsPage, "since=0&limit=2"},
      {"/records?", Resource::kRecordsPage, ""},
      {"/proof/inclusion?index=57", Resource::kInclusion, "index=57"},
      {"/proof/inclusion", Resource::kInclusion, ""},
      {"/proof/consistency?from=40&to=50", Resource::kConsistency, "from=40&to=50"},
      {"/proof/consistency?a?b", Resource::kConsistency, "a?b"},  // only the first '?' splits
  };
  for (const Case& c : cases) {
    INFO(c.target);
    Route r;
    r.query = "stale";
    r.record_path = "stale";
    REQUIRE_OK(http::MatchRoute(c.target, &r));
    CHECK(r.resource == c.resource);
    CHECK(r.query == c.query);
    CHECK(r.record_path.empty());
    CHECK(r.tile_name.empty());
  }
}

TEST_CASE("MatchRoute: names that are no resource are NotFound", "[http]") {
  for (const char* target : {"",
                             "/",
                             "/checkpoint/",
                             "/checkpoint/x",
                             "/Checkpoint",
                             "checkpoint",
                             "//checkpoint",
                             "/recordsx",
                             "/record",
                             "/proof",
                             "/proof/",
                             "/proof/x",
                             "/proof/inclusion/",
                             "/proof/inclusionx",
                             "/tile",
                             "/tile/",
                             "/tiles/0/000",
                             "/x/records/a",
                             "/%63heckpoint",
                             "/checkpoint%3Fx=1",
                             "/records%2Fa"}) {
    INFO("\"" << target << "\"");
    CHECK(RouteCode(target) == Status::Code::kNotFound);
  }
}

TEST_CASE("MatchRoute parses valid tile paths", "[http]") {
  struct Case {
    const char* target;
    bool entries;
    int level;
    uint64_t index;
    int width;
    const char* name;
  };
  const Case cases[] = {
      {"/tile/0/000", false, 0, 0, 256, "tile/0/000"},
      {"/tile/0/000.p/1", false, 0, 0, 1, "tile/0/000.p/1"},
      {"/tile/0/000.p/255", false, 0, 0, 255, "tile/0/000.p/255"},
      {"/tile/0/x001/000.p/5", false, 0, 1000, 5, "tile/0/x001/000.p/5"},
      {"/tile/1/x001/x234/067", false, 1, 1234067, 256, "tile/1/x001/x234/067"},
      {"/tile/63/000", false, 63, 0, 256, "tile/63/000"},
      {"/tile/entries/000", true, 0, 0, 256, "tile/entries/000"},
      {"/tile/entries/000.p/3", true, 0, 0, 3, "tile/entries/000.p/3"},
      {"/tile/entries/x002/345.p/255", true, 0, 2345, 255, "tile/entries/x002/345.p/255"},
      {"/tile/0/999?q=1", false, 0, 999, 256, "tile/0/999"},
  };
  for (const Case& c : cases) {
    INFO(c.target);
    Route r;
    REQUIRE_OK(http::MatchRoute(c.target, &r));
    CHECK(r.resource == Resource::kTile);
    CHECK(r.tile.entries == c.entries);
    CHECK(r.tile.tile.level == c.level);
    CHECK(r.tile.tile.index == c.index);
    CHECK(r.tile.tile.width == c.width);
    CHECK(r.tile_name == c.name);
    CHECK(r.record_path.empty());
  }
  Route r;
  REQUIRE_OK(http::MatchRoute("/tile/0/999?q=1", &r));
  CHECK(r.query == "q=1");
}

TEST_CASE("MatchRoute: malformed tile paths are NotFound", "[http]") {
  for (const char* target : {
           "/tile/0",
           "/tile/0/",
           "/tile/0/00",
           "/tile/0/0000",
           "/tile/0/00a",
           "/tile/00/000",  // leading zero in the level
           "/tile/01/000",
           "/tile/64/000",  // beyond the highest level
           "/tile/-1/000",
           "/tile/x/000",
           "/tile/0/000.p/0",  // widths are 1..255
           "/tile/0/000.p/256",
           "/tile/entries/000.p/256",
           "/tile/0/000.p/05",  // leading zero in the width
           "/tile/0/000.p/",
           "/tile/0/000.p",
           "/tile/0/000.p/5/",
           "/tile/0/000/",
           "/tile/0/x000/001",  // a redundant leading group
           "/tile/0/x001",      // the last group has no 'x'
           "/tile/0/x001/x000",
           "/tile/0/1000",
           "/tile/entries/",
           "/tile/entries/x",
           "/tile/entries/0/000",  // entries have no level
           "/tile/Entries/000",
           "/tile/0/%30%30%30",  // tile names are not percent-decoded
           "/tile/0/000%2Ep/5",
           "/tile//0/000",
       }) {
    INFO(target);
    CHECK(RouteCode(target) == Status::Code::kNotFound);
  }
}

TEST_CASE("MatchRoute decodes and checks record paths", "[http]") {
  struct Case {
    std::string target;
    std::string path;
    std::string query;
  };
  const std::string c255(255, 'c');
  const std::vector<Case> cases = {
      {"/records/a", "a", ""},
      {"/records/invoices/2026/0042.pdf", "invoices/2026/0042.pdf", ""},
      {"/records/a%2Fb", "a/b", ""},  // %2F is '/', so a%2Fb is a/b
      {"/records/a%20b", "a b", ""},
      {"/records/a+b", "a+b", ""},
      {"/records/%25", "%", ""},
      {"/records/%C3%A9t%C3%A9", "\xc3\xa9t\xc3\xa9", ""},
      {"/records/\xc3\xa9", "\xc3\xa9", ""},  // raw UTF-8 in the target
      {"/records/...", "...", ""},
      {"/records/.a/..b", ".a/..b", ""},
      {"/records/x?since=1", "x", "since=1"},
      {"/records/a%3Fb?c", "a?b", "c"},  // an escaped '?' belongs to the path
      {"/records/" + c255, c255, ""},
  };
  for (const Case& c : cases) {
    INFO(c.target);
    Route r;
    REQUIRE_OK(http::MatchRoute(c.target, &r));
    CHECK(r.resource == Resource::kRecord);
    CHECK(r.record_path == c.path);
    CHECK(r.query == c.query);
  }
}

TEST_CASE("MatchRoute: record paths at the length limits", "[http]") {
  // 4096 bytes made of 16 components of 254 bytes and one of 16: accepted.
  std::string path;
  for (int i = 0; i < 16; ++i) path += std::string(254, static_cast<char>('a' + i)) + "/";
  path += std::string(4096 - path.size(), 'z');
  REQUIRE(path.substr(path.size() - 17) == "/" + std::string(16, 'z'));
  REQUIRE(path.size() == 4096);
  Route r;
  REQUIRE_OK(http::MatchRoute("/records/" + path, &r));
  CHECK(r.resource == Resource::kRecord);
  CHECK(r.record_path == path);

  // One more byte: 4097.
  CHECK(RouteCode("/records/" + path + "z") == Status::Code::kInvalidArgument);
  // The limit applies to the decoded path: 4096 bytes spelled with escapes are fine ...
  std::string escaped = path;
  escaped.replace(escaped.size() - 3, 3, "%7A%7A%7A");
  REQUIRE_OK(http::MatchRoute("/records/" + escaped, &r));
  CHECK(r.record_path == path);
  // ... and 4097 decoded bytes are not, however they are spelled.
  CHECK(RouteCode("/records/" + escaped + "%7A") == Status::Code::kInvalidArgument);

  // A 256-byte component, alone or inside a path.
  CHECK(RouteCode("/records/" + std::string(256, 'c')) == Status::Code::kInvalidArgument);
  CHECK(RouteCode("/records/a/" + std::string(256, 'c') + "/b") == Status::Code::kInvalidArgument);
  // 256 bytes once decoded (254 + "%41%41").
  CHECK(RouteCode("/records/" + std::string(254, 'c') + "%41%41") ==
        Status::Code::kInvalidArgument);
  // A 255-byte component made of 2-byte characters plus one byte.
  std::string wide;
  for (int i = 0; i < 127; ++i) wide += "\xc3\xa9";
  REQUIRE_OK(http::MatchRoute("/records/" + wide + "x", &r));
  CHECK(RouteCode("/records/" + wide + "\xc3\xa9") == Status::Code::kInvalidArgument);
}

TEST_CASE("MatchRoute: bad record paths are InvalidArgument", "[http]") {
  const std::vector<std::string> bad = {
      "/records/",             // empty
      "/records/?x=1",         // empty, with a query
      "/records//etc/passwd",  // leading slash
      "/records/%2Fetc",       // leading slash, escaped
      "/records/a/",           // trailing slash
      "/records/a%2F",         // trailing slash, escaped
      "/records/a//b",         // empty component
      "/records/a%2F%2Fb",
      "/records/.",
      "/records/..",
      "/records/a/.",
      "/records/a/./b",
      "/records/a/../b",
      "/records/../etc/passwd",
      "/records/%2E%2E/x",  // ".." escaped
      "/records/a/%2e",
      "/records/a%00b",  // NUL
      "/records/%00",
      "/records/%FF",           // not UTF-8 once decoded
      "/records/a%C0%AF",       // overlong '/'
      "/records/%ED%A0%80",     // a surrogate
      "/records/%F4%90%80%80",  // beyond U+10FFFF
      "/records/%C3",           // truncated sequence
      "/records/a%4",           // truncated escape
      "/records/a%G1",          // non-hex escape
      "/records/a%",
  };
  for (const std::string& target : bad) {
    INFO(target);
    Route r;
    const Status st = http::MatchRoute(target, &r);
    CHECK(st.code() == Status::Code::kInvalidArgument);
    CHECK(r.record_path.empty());
  }
  // Raw invalid UTF-8 in the target itself is refused too.
  CHECK(RouteCode("/records/a" + Bytes({0xff})) == Status::Code::kInvalidArgument);
}

// --- Methods -------------------------------------------------------------------------------------

TEST_CASE("MethodAllowed and AllowHeader agree with the contract", "[http]") {
  const Resource read_only[] = {Resource::kCheckpoint, Resource::kTile, Resource::kRecordsPage,
                                Resource::kInclusion, Resource::kConsistency};
  for (Resource r : read_only) {
    INFO("resource " << static_cast<int>(r));
    CHECK(http::MethodAllowed(r, "GET"));
    CHECK(http::MethodAllowed(r, "HEAD"));
    for (const char* m : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get", "", "GETX"}) {
      INFO(m);
      CHECK_FALSE(http::MethodAllowed(r, m));
    }
    CHECK(std::string(http::AllowHeader(r)) == "GET, HEAD");
  }
  CHECK(http::MethodAllowed(Resource::kRecord, "GET"));
  CHECK(http::MethodAllowed(Resource::kRecord, "HEAD"));
  CHECK(http::MethodAllowed(Resource::kRecord, "POST"));
  for (const char* m : {"PUT", "DELETE", "PATCH", "OPTIONS", "post", ""}) {
    INFO(m);
    CHECK_FALSE(http::MethodAllowed(Resource::kRecord, m));
  }
  CHECK(std::string(http::AllowHeader(Resource::kRecord)) == "GET, HEAD, POST");
}

// --- --listen ------------------------------------------------------------------------------------

TEST_CASE("ParseListenAddress reads ports, hosts, IPv6 and Unix sockets", "[http]") {
  struct Case {
    const char* spec;
    bool unix_socket;
    const char* host;
    int port;
    const char* socket_path;
    const char* text;  // ToString
  };
  const Case cases[] = {
      {"8080", false, "127.0.0.1", 8080, "", "127.0.0.1:8080"},
      {"0", false, "127.0.0.1", 0, "", "127.0.0.1:0"},
      {"65535", false, "127.0.0.1", 65535, "", "127.0.0.1:65535"},
      {"127.0.0.1:8080", false, "127.0.0.1", 8080, "", "127.0.0.1:8080"},
      {"0.0.0.0:1", false, "0.0.0.0", 1, "", "0.0.0.0:1"},
      {"localhost:80", false, "localhost", 80, "", "localhost:80"},
      {"[::1]:8080", false, "::1", 8080, "", "[::1]:8080"},
      {"[::]:0", false, "::", 0, "", "[::]:0"},
      {"unix:/run/x.sock", true, "", 0, "/run/x.sock", "unix:/run/x.sock"},
  };
  for (const Case& c : cases) {
    INFO(c.spec);
    http::ListenAddress a;
    a.port = 999;
    REQUIRE_OK(http::ParseListenAddress(c.spec, &a));
    CHECK(a.unix_socket == c.unix_socket);
    if (!c.unix_socket) {
      CHECK(a.host == c.host);
      CHECK(a.port == c.port);
    }
    CHECK(a.socket_path == c.socket_path);
    CHECK(a.ToString() == c.text);

    // ToString is itself a spec that parses back to the same address.
    http::ListenAddress back;
    REQUIRE_OK(http::ParseListenAddress(a.ToString(), &back));
    CHECK(back.unix_socket == a.unix_socket);
    CHECK(back.host == a.host);
    CHECK(back.port == a.port);
    CHECK(back.socket_path == a.socket_path);
  }
}

TEST_CASE("ParseListenAddress refuses malformed addresses", "[http]") {
  const std::vector<std::string> bad = {
      "",
      "::1:8080",  // IPv6 without brackets
      "::1",
      "fe80::1:80",
      "[::1]",  // no port
      "[::1]:",
      "[]:8080",
      "[::1:8080",
      "::1]:8080",
      "unix:rel",  // relative socket path
      "unix:",
      "unix:run/x.sock",
      "unix:/" + std::string(107, 's'),  // 108 bytes: over sun_path
      "65536",
      "99999",
      "18446744073709551616",
      "127.0.0.1:65536",
      "-1",
      "+80",
      "080",    // leading zero
      "host:",  // empty port
      ":8080",  // empty host
      ":",
      "host:port",
      "127.0.0.1:80x",
      "127.0.0.1: 80",
      "127.0.0.1:8080 ",
      "http://127.0.0.1:8080",
  };
  for (const std::string& spec : bad) {
    INFO("\"" << spec << "\"");
    http::ListenAddress a;
    CHECK(http::ParseListenAddress(spec, &a).code() == Status::Code::kInvalidArgument);
  }
  // The longest Unix socket path that fits (107 bytes) is accepted.
  http::ListenAddress a;
  REQUIRE_OK(http::ParseListenAddress("unix:/" + std::string(106, 's'), &a));
  CHECK(a.socket_path.size() == 107);
}
