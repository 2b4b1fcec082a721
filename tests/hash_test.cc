// SHA-256, RFC 6962 leaf/node hashing and the strict text encodings, against published vectors.
#include <catch2/catch.hpp>

#include <string>

#include "ledger/encoding.h"
#include "ledger/hash.h"
#include "support/test_data.h"

namespace {

using ledger::Hash;
using ledger::testing::Unhex;

}  // namespace

TEST_CASE("SHA-256 matches FIPS 180 vectors", "[hash]") {
  CHECK(ledger::HashToHex(ledger::Sha256("")) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(ledger::HashToHex(ledger::Sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(ledger::HashToHex(
            ledger::Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(ledger::HashToBase64(ledger::EmptyTreeHash()) ==
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

TEST_CASE("RFC 6962 leaf and node hashes match spec 6.1", "[hash]") {
  const char* inputs[] = {"",
                          "00",
                          "10",
                          "2021",
                          "3031",
                          "40414243",
                          "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"};
  const char* leaves[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
      "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
  };
  Hash h[8];
  for (int i = 0; i < 8; ++i) {
    h[i] = ledger::LeafHash(Unhex(inputs[i]));
    CHECK(ledger::HashToHex(h[i]) == leaves[i]);
  }
  CHECK(ledger::HashToHex(ledger::NodeHash(h[0], h[1])) ==
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
  CHECK(ledger::HashToHex(ledger::NodeHash(h[6], h[7])) ==
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0");
  CHECK(ledger::HashToHex(
            ledger::NodeHash(ledger::NodeHash(h[0], h[1]), ledger::NodeHash(h[2], h[3]))) ==
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
  // Order matters: swapping children must change the node.
  CHECK(ledger::NodeHash(h[1], h[0]) != ledger::NodeHash(h[0], h[1]));
  // golang/mod sumdb/tlog TestFormatTree.
  CHECK(ledger::HashToBase64(ledger::LeafHash("hello world")) ==
        "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=");
}

TEST_CASE("Sha256Stream equals one-shot hashing for any chunking", "[hash]") {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>((i * 131) ^ (i >> 7));
  const Hash want = ledger::Sha256(data);

  ledger::Sha256Stream s;
  CHECK(s.Finish() == ledger::Sha256(""));  // nothing written

  for (size_t chunk : {size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4096}, data.size()}) {
    s.Reset();
    for (size_t off = 0; off < data.size(); off += chunk) {
      std::string_view piece = std::string_view(data).substr(off, chunk);
      if ((off / chunk) % 2 == 0) {
        s.Update(piece);
      } else {
        s.Update(piece.data(), piece.size());
      }
    }
    CHECK(s.Finish() == want);
  }
  // Reset really starts over.
  s.Reset();
  s.Update("abc");
  CHECK(s.Finish() == ledger::Sha256("abc"));
  // Updates after Finish are ignored, not silently mixed into a later digest.
  s.Update("junk");
  s.Reset();
  s.Update("abc");
  CHECK(s.Finish() == ledger::Sha256("abc"));
}

TEST_CASE("Hash hex and base64 round-trip; wrong lengths are refused", "[hash]") {
  Hash h = ledger::Sha256("x");
  Hash back{};
  REQUIRE(ledger::HashFromHex(ledger::HashToHex(h), &back));
  CHECK(back == h);
  REQUIRE(ledger::HashFromBase64(ledger::HashToBase64(h), &back));
  CHECK(back == h);
  CHECK(ledger::HashToBase64(h).size() == 44);
  CHECK(ledger::HashBytes(h).size() == 32);
  CHECK(std::string(ledger::HashBytes(h)) == Unhex(ledger::HashToHex(h)));

  CHECK_FALSE(ledger::HashFromHex(ledger::HashToHex(h).substr(2), &back));
  CHECK_FALSE(ledger::HashFromHex(ledger::HashToHex(h) + "00", &back));
  CHECK_FALSE(ledger::HashFromBase64("AAAA", &back));
  CHECK_FALSE(ledger::HashFromBase64(ledger::Base64Encode(std::string(33, 'a')), &back));
  CHECK(ledger::testing::HexHash(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") ==
        ledger::EmptyTreeHash());
}

TEST_CASE("Base64 follows RFC 4648 and refuses non-canonical text", "[encoding]") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : vectors) {
    CHECK(ledger::Base64Encode(plain) == enc);
    auto dec = ledger::Base64Decode(enc);
    REQUIRE(dec.has_value());
    CHECK(*dec == plain);
  }
  CHECK(ledger::Base64Encode(std::string("\xff\xfe\x00", 3)) == "//4A");

  const char* bad[] = {
      "Zg",        // missing padding
      "Zg=",       // short padding
      "Zh==",      // unused bits set: non-canonical spelling of "f"
      "Zm9=",      // unused bits set: non-canonical spelling of "fo"
      "Zg==Zg==",  // padding in the middle
      "Zm9v====",  // padding-only group
      "=Zm9",      // padding first
      "Z===",      // too much padding
      "Zm-v",      // URL-safe alphabet
      "Zm_v",      // URL-safe alphabet
      "Zm9v\n",    // trailing newline
      " Zm9v",     // leading space
      "Zm 9v",     // inner space
      "Zm9vYg==\n",
  };
  for (const char* s : bad) {
    INFO(s);
    CHECK_FALSE(ledger::Base64Decode(s).has_value());
  }
  // Every byte string round-trips, at every length mod 3.
  std::string data;
  for (int n = 0; n < 70; ++n) {
    auto dec = ledger::Base64Decode(ledger::Base64Encode(data));
    REQUIRE(dec.has_value());
    CHECK(*dec == data);
    data += static_cast<char>(n * 37 + 200);
  }
}

TEST_CASE("Hex is lowercase only and strict", "[encoding]") {
  CHECK(ledger::HexEncode(std::string("\x00\x01\xab\xff", 4)) == "0001abff");
  CHECK(ledger::HexEncode("") == "");
  auto dec = ledger::HexDecode("0001abff");
  REQUIRE(dec.has_value());
  CHECK(*dec == std::string("\x00\x01\xab\xff", 4));
  CHECK(ledger::HexDecode("").value() == "");
  CHECK_FALSE(ledger::HexDecode("ABFF").has_value());  // uppercase refused
  CHECK_FALSE(ledger::HexDecode("abf").has_value());   // odd length
  CHECK_FALSE(ledger::HexDecode("zz").has_value());
  CHECK_FALSE(ledger::HexDecode("ab ").has_value());
  CHECK_FALSE(ledger::HexDecode("0x00").has_value());
}

TEST_CASE("ParseDecimal follows the C2SP number rules", "[encoding]") {
  CHECK(ledger::ParseDecimal("0") == uint64_t{0});
  CHECK(ledger::ParseDecimal("7") == uint64_t{7});
  CHECK(ledger::ParseDecimal("20852163") == uint64_t{20852163});
  CHECK(ledger::ParseDecimal("18446744073709551615") == UINT64_MAX);
  const char* bad[] = {"",
                       "00",
                       "01",
                       "-1",
                       "+1",
                       " 1",
                       "1 ",
                       "1a",
                       "0x1",
                       "1.0",
                       "18446744073709551616",
                       "99999999999999999999",
                       "184467440737095516150"};
  for (const char* s : bad) {
    INFO(s);
    CHECK_FALSE(ledger::ParseDecimal(s).has_value());
  }
}
