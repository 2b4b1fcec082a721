// Tile arithmetic, tree hashes and proofs: spec vectors, then an exhaustive cross-check of the
// tile-based code against a naive RFC 6962 implementation written straight from the definitions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ledger/encoding.h"
#include "ledger/hash.h"
#include "ledger/tlog_math.h"
#include "support/test_data.h"

namespace {

using ledger::Hash;
using ledger::TileId;

using ledger::testing::Unhex;
constexpr auto& H = ledger::testing::HexHash;

// RFC 6962 §2.1 taken literally (recursive MTH, PATH, SUBPROOF), memoised by leaf range so the
// exhaustive sweeps stay fast. Shares nothing with ledger/tlog_math.cc but NodeHash.
class Reference {
 public:
  explicit Reference(const std::vector<Hash>& leaves) : leaves_(leaves) {}

  Hash Root(uint64_t n) { return n == 0 ? ledger::Sha256("") : Mth(0, n); }

  std::vector<Hash> Path(uint64_t m, uint64_t lo, uint64_t hi) {
    if (hi - lo == 1) return {};
    uint64_t k = Split(hi - lo);
    std::vector<Hash> p;
    if (m < lo + k) {
      p = Path(m, lo, lo + k);
      p.push_back(Mth(lo + k, hi));
    } else {
      p = Path(m, lo + k, hi);
      p.push_back(Mth(lo, lo + k));
    }
    return p;
  }

  std::vector<Hash> Consistency(uint64_t m, uint64_t n) {
    if (m == 0 || m == n) return {};
    return SubProof(m, 0, n, true);
  }

 private:
  static uint64_t Split(uint64_t n) {
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  Hash Mth(uint64_t lo, uint64_t hi) {
    if (hi - lo == 1) return leaves_[lo];
    auto it = memo_.find({lo, hi});
    if (it != memo_.end()) return it->second;
    uint64_t k = Split(hi - lo);
    Hash h = ledger::NodeHash(Mth(lo, lo + k), Mth(lo + k, hi));
    memo_[{lo, hi}] = h;
    return h;
  }

  std::vector<Hash> SubProof(uint64_t m, uint64_t lo, uint64_t hi, bool b) {
    uint64_t n = hi - lo;
    if (m == n) return b ? std::vector<Hash>{} : std::vector<Hash>{Mth(lo, hi)};
    uint64_t k = Split(n);
    std::vector<Hash> p;
    if (m <= k) {
      p = SubProof(m, lo, lo + k, b);
      p.push_back(Mth(lo + k, hi));
    } else {
      p = SubProof(m - k, lo + k, hi, false);
      p.push_back(Mth(lo, lo + k));
    }
    return p;
  }

  const std::vector<Hash>& leaves_;
  std::map<std::pair<uint64_t, uint64_t>, Hash> memo_;
};

std::vector<Hash> NumberedLeaves(uint64_t n, const std::string& prefix) {
  std::vector<Hash> leaves;
  leaves.reserve(n);
  for (uint64_t i = 0; i < n; ++i) leaves.push_back(ledger::LeafHash(prefix + std::to_string(i)));
  return leaves;
}

// The 70,000-entry log of spec §6.5 (entry i = "entry <i>"), built once for all tests.
const std::vector<Hash>& Leaves70k() {
  static const std::vector<Hash> leaves = NumberedLeaves(70000, "entry ");
  return leaves;
}

// The eight leaves of spec §6.1.
std::vector<Hash> Leaves8() {
  std::vector<Hash> leaves;
  for (const char* d : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                        "606162636465666768696a6b6c6d6e6f"}) {
    leaves.push_back(ledger::LeafHash(Unhex(d)));
  }
  return leaves;
}

std::string TileAt(ledger::HashReader& reader, int level, uint64_t begin, uint64_t end,
                   uint64_t size) {
  std::vector<Hash> hashes;
  ledger::Status st = reader.ReadTileHashes(level, begin, end, size, &hashes);
  REQUIRE(st.ok());
  return ledger::TileBytes(hashes);
}

Hash Flip(Hash h) {
  h[7] ^= 0x20;
  return h;
}

}  // namespace

TEST_CASE("tree hashes and proofs match spec 6.1", "[tlog]") {
  std::vector<Hash> leaves = Leaves8();
  ledger::MemoryHashReader reader(leaves);
  const Hash &h0 = leaves[0], &h1 = leaves[1], &h4 = leaves[4], &h6 = leaves[6];
  const Hash l1_0 = H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
  const Hash l1_1 = H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e");
  const Hash l1_2 = H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a");
  const Hash l1_3 = H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0");
  const Hash l2_0 = H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
  const Hash l2_1 = H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
  const Hash roots[9] = {H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                         h0,
                         l1_0,
                         H("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
                         l2_0,
                         H("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
                         H("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
                         H("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
                         H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")};
  CHECK(ledger::HashToBase64(roots[8]) == "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");

  ledger::CompactRange range;
  for (uint64_t n = 0; n <= 8; ++n) {
    INFO("size " << n);
    Hash root{};
    REQUIRE(ledger::TreeHash(reader, n, &root).ok());
    CHECK(root == roots[n]);
    CHECK(range.Root() == roots[n]);
    CHECK(ledger::RootFromLeaves({leaves.begin(), leaves.begin() + static_cast<long>(n)}) ==
          roots[n]);
    if (n < 8) range.Append(leaves[n]);
  }

  Hash node{};
  REQUIRE(ledger::NodeHashAt(reader, 1, 3, 8, &node).ok());
  CHECK(node == l1_3);
  REQUIRE(ledger::NodeHashAt(reader, 2, 1, 8, &node).ok());
  CHECK(node == l2_1);

  struct Incl {
    uint64_t index, size;
    std::vector<Hash> want;
  };
  const Incl incl[] = {
      {0, 8, {h1, l1_1, l2_1}}, {5, 8, {h4, l1_3, l2_0}}, {2, 3, {l1_0}}, {1, 5, {h0, l1_1, h4}}};
  for (const Incl& c : incl) {
    INFO("inclusion " << c.index << " in " << c.size);
    std::vector<Hash> proof;
    REQUIRE(ledger::InclusionProof(reader, c.index, c.size, &proof).ok());
    CHECK(proof == c.want);
    CHECK(ledger::VerifyInclusion(leaves[c.index], c.index, c.size, proof, roots[c.size]));
  }

  struct Cons {
    uint64_t m, n;
    std::vector<Hash> want;
  };
  const Cons cons[] = {{1, 8, {h1, l1_1, l2_1}},
                       {6, 8, {l1_2, l1_3, l2_0}},
                       {2, 5, {l1_1, h4}},
                       {6, 7, {l1_2, h6, l2_0}},
                       {1, 1, {}},
                       {0, 5, {}},
                       {0, 0, {}}};
  for (const Cons& c : cons) {
    INFO("consistency " << c.m << " -> " << c.n);
    std::vector<Hash> proof{h0};  // must be replaced, not appended to
    REQUIRE(ledger::ConsistencyProof(reader, c.m, c.n, &proof).ok());
    CHECK(proof == c.want);
    CHECK(ledger::VerifyConsistency(c.m, c.n, roots[c.m], roots[c.n], proof));
  }
}

TEST_CASE("verifiers refuse proofs of the wrong length even when the hashes line up", "[tlog]") {
  std::vector<Hash> leaves = Leaves8();
  ledger::MemoryHashReader reader(leaves);
  const Hash h01 = ledger::NodeHash(leaves[0], leaves[1]);
  // A proof too short for the claimed size stops at an inner node; that node is not the root.
  CHECK(ledger::VerifyInclusion(leaves[0], 0, 2, {leaves[1]}, h01));
  CHECK_FALSE(ledger::VerifyInclusion(leaves[0], 0, 4, {leaves[1]}, h01));
  CHECK(ledger::VerifyConsistency(1, 2, leaves[0], h01, {leaves[1]}));
  CHECK_FALSE(ledger::VerifyConsistency(1, 4, leaves[0], h01, {leaves[1]}));
  // A proof extended past the root would "prove" a made-up parent of the real root.
  Hash root8{};
  REQUIRE(ledger::TreeHash(reader, 8, &root8).ok());
  const Hash x = ledger::Sha256("x");
  for (uint64_t i = 0; i < 8; ++i) {
    std::vector<Hash> proof;
    REQUIRE(ledger::InclusionProof(reader, i, 8, &proof).ok());
    REQUIRE(ledger::VerifyInclusion(leaves[i], i, 8, proof, root8));
    proof.push_back(x);
    CHECK_FALSE(ledger::VerifyInclusion(leaves[i], i, 8, proof, ledger::NodeHash(x, root8)));
  }
  for (uint64_t m = 1; m < 8; ++m) {
    Hash old_root{};
    REQUIRE(ledger::TreeHash(reader, m, &old_root).ok());
    std::vector<Hash> proof;
    REQUIRE(ledger::ConsistencyProof(reader, m, 8, &proof).ok());
    REQUIRE(ledger::VerifyConsistency(m, 8, old_root, root8, proof));
    proof.push_back(x);
    CHECK_FALSE(ledger::VerifyConsistency(m, 8, old_root, ledger::NodeHash(x, root8), proof));
    CHECK_FALSE(ledger::VerifyConsistency(m, 8, old_root, ledger::NodeHash(root8, x), proof));
  }
}

TEST_CASE("tile hashes of spec 6.5: 8-leaf tile and the 70,000-entry log", "[tlog]") {
  CHECK(ledger::HashToHex(ledger::Sha256(ledger::TileBytes(Leaves8()))) ==
        "aea2f1bbb5140fd5f8eacb503fdf54c00c3d860c72588e40233addd416bc8f10");

  const uint64_t size = 70000;
  ledger::MemoryHashReader reader(Leaves70k());
  auto tile_sha = [&](int level, uint64_t index, int width) {
    uint64_t begin = index * 256;
    return ledger::HashToHex(ledger::Sha256(TileAt(reader, level, begin, begin + width, size)));
  };
  CHECK(tile_sha(0, 0, 256) == "b0f6ca2ff42508faf8c6bb4ea8bb9c74243b19d4174fdc4fd17bdad9099e605e");
  CHECK(tile_sha(0, 273, 112) ==
        "e31da4e768fc0d0f1f1f0046a1c4b68d71326b04a07951a7d3dcefef0de9b8cd");
  CHECK(tile_sha(1, 0, 256) == "44f879be76da41edaf37c0d67303fbd25f2ea44be93285b320561fbaaaaabbfa");
  CHECK(tile_sha(1, 1, 17) == "5a8eb2fe63c90ddf7fd813d165c04fa79d6eca48534b61bd312fcd2d1cf0aef3");
  CHECK(tile_sha(2, 0, 1) == "7e27fb89709243536fe26030f273fc9f7a73443f5e7ec296b3053aa520623e76");
  Hash root{};
  REQUIRE(ledger::TreeHash(reader, size, &root).ok());
  CHECK(ledger::HashToHex(root) ==
        "a3920fba7f239a071a9bd10721f1341addefbaededb41c7e24437a9d16bdf00a");

  // The same log published from scratch: 273 full level-0 tiles, then the spec's partials.
  std::vector<TileId> tiles = ledger::TilesToPublish(0, size);
  REQUIRE(tiles.size() == 277);
  for (uint64_t i = 0; i < 273; ++i) CHECK(tiles[i] == TileId{0, i, 256});
  CHECK(tiles[273] == TileId{0, 273, 112});
  CHECK(tiles[274] == TileId{1, 0, 256});
  CHECK(tiles[275] == TileId{1, 1, 17});
  CHECK(tiles[276] == TileId{2, 0, 1});

  // A writer keeping only the right edge reaches the same root.
  ledger::CompactRange range;
  for (const Hash& leaf : Leaves70k()) range.Append(leaf);
  CHECK(range.Root() == root);
  ledger::CompactRange rebuilt;
  REQUIRE(ledger::CompactRange::FromReader(reader, size, &rebuilt).ok());
  CHECK(rebuilt.size() == size);
  CHECK(rebuilt.peaks() == range.peaks());
}

TEST_CASE("tile widths follow the spec examples", "[tlog]") {
  CHECK(ledger::TileWidthAt(0, 272, 70000) == 256);
  CHECK(ledger::TileWidthAt(0, 273, 70000) == 112);
  CHECK(ledger::TileWidthAt(0, 274, 70000) == 0);
  CHECK(ledger::TileWidthAt(1, 0, 70000) == 256);
  CHECK(ledger::TileWidthAt(1, 1, 70000) == 17);
  CHECK(ledger::TileWidthAt(2, 0, 70000) == 1);
  CHECK(ledger::TileWidthAt(3, 0, 70000) == 0);
  CHECK(ledger::TileWidthAt(0, 0, 0) == 0);  // an empty log has no tiles
  CHECK(ledger::TilesToPublish(0, 0).empty());
  // Size 256: a full tile/0/000 plus tile/1/000.p/1.
  CHECK(ledger::TilesToPublish(0, 256) == std::vector<TileId>{{0, 0, 256}, {1, 0, 1}});
  CHECK(ledger::TilesToPublish(255, 256) == std::vector<TileId>{{0, 0, 256}, {1, 0, 1}});
  CHECK(ledger::TilesToPublish(256, 257) == std::vector<TileId>{{0, 1, 1}});
  CHECK(ledger::TilesToPublish(10, 10).empty());
  CHECK(ledger::TilesToPublish(11, 10).empty());
  // The largest sizes neither overflow nor enumerate the whole tree.
  CHECK(ledger::TileWidthAt(7, 0, UINT64_MAX) == 255);
  CHECK(ledger::TileWidthAt(63, 0, UINT64_MAX) == 0);
  std::vector<TileId> top = ledger::TilesToPublish(UINT64_MAX - 1, UINT64_MAX);
  REQUIRE(top.size() == 1);
  CHECK(top[0] == TileId{0, (UINT64_MAX >> 8), 255});
}

TEST_CASE("TilesToPublish equals a brute-force diff of tile bytes", "[tlog]") {
  ledger::MemoryHashReader reader(Leaves70k());
  // Every tile that exists at `size`, with its bytes read through the reader at that size.
  auto all_tiles = [&](uint64_t size) {
    std::map<std::pair<int, uint64_t>, std::string> tiles;
    for (int level = 0; level < 8; ++level) {
      uint64_t nodes = size >> (8 * level);
      for (uint64_t n = 0; n * 256 < nodes; ++n) {
        uint64_t end = std::min(nodes, (n + 1) * 256);
        tiles[{level, n}] = TileAt(reader, level, n * 256, end, size);
      }
    }
    return tiles;
  };
  auto check_pair = [&](uint64_t old_size, uint64_t size, const auto& old_tiles,
                        const auto& new_tiles) {
    std::vector<TileId> want;
    for (const auto& [key, bytes] : new_tiles) {
      auto it = old_tiles.find(key);
      if (it == old_tiles.end() || it->second != bytes) {
        want.push_back(TileId{key.first, key.second, static_cast<int>(bytes.size() / 32)});
      }
    }
    std::vector<TileId> got = ledger::TilesToPublish(old_size, size);
    if (got != want) FAIL_CHECK("TilesToPublish(" << old_size << ", " << size << ") differs");
  };

  // Every pair of sizes up to 300 (crosses the first level-0 tile boundary and level 1).
  std::vector<std::map<std::pair<int, uint64_t>, std::string>> small;
  for (uint64_t s = 0; s <= 300; ++s) small.push_back(all_tiles(s));
  for (uint64_t size = 0; size <= 300; ++size) {
    for (uint64_t old_size = 0; old_size <= size; ++old_size) {
      check_pair(old_size, size, small[old_size], small[size]);
    }
  }
  // Pairs around the level-1 and level-2 boundaries of the 70,000-entry log.
  const uint64_t big[] = {0,     255,   256,   511,   65279, 65280, 65281, 65535,
                          65536, 65537, 65791, 65792, 65793, 69888, 69999, 70000};
  std::vector<std::map<std::pair<int, uint64_t>, std::string>> big_tiles;
  for (uint64_t s : big) big_tiles.push_back(all_tiles(s));
  for (size_t j = 0; j < std::size(big); ++j) {
    for (size_t i = 0; i <= j; ++i) check_pair(big[i], big[j], big_tiles[i], big_tiles[j]);
  }
}

// Which leaves (and old sizes) to prove in a tree of n: all of them while n <= 128; beyond that,
// the tile edges and ends plus a stride that shifts with n, so that across sizes every position
// is still visited. (Each tile-based proof costs O(n) hashes, so all pairs up to 300 would cost
// ~18M hashes, too slow for a debug unit test.)
bool Sampled(uint64_t i, uint64_t n) {
  if (n <= 128) return true;
  for (uint64_t edge : {0, 1, 2, 127, 128, 129, 254, 255, 256, 257}) {
    if (i == edge) return true;
  }
  return i + 3 >= n || i == n / 2 || i % 17 == n % 17;
}

TEST_CASE("tile proofs equal a naive RFC 6962 reference for every size up to 300", "[tlog]") {
  const uint64_t kMax = 300;
  const std::vector<Hash> leaves = NumberedLeaves(kMax, "leaf ");
  Reference ref(leaves);
  ledger::MemoryHashReader reader(leaves);
  std::vector<Hash> roots;
  for (uint64_t n = 0; n <= kMax; ++n) roots.push_back(ref.Root(n));

  std::vector<std::string> failures;
  auto fail = [&](std::string what) { failures.push_back(std::move(what)); };
  ledger::CompactRange range;
  for (uint64_t n = 1; n <= kMax; ++n) {
    const std::string at = " at size " + std::to_string(n);
    range.Append(leaves[n - 1]);
    Hash root{};
    if (!ledger::TreeHash(reader, n, &root).ok() || root != roots[n]) fail("TreeHash" + at);
    if (range.Root() != roots[n]) fail("CompactRange::Root" + at);
    if (range.peaks().size() != static_cast<size_t>(std::popcount(n))) fail("peak count" + at);
    ledger::CompactRange rebuilt;
    if (!ledger::CompactRange::FromReader(reader, n, &rebuilt).ok() ||
        rebuilt.peaks() != range.peaks() || rebuilt.size() != n) {
      fail("FromReader" + at);
    }

    for (uint64_t i = 0; i < n; ++i) {
      if (!Sampled(i, n)) continue;
      const std::string what = " for leaf " + std::to_string(i) + at;
      std::vector<Hash> proof;
      if (!ledger::InclusionProof(reader, i, n, &proof).ok()) {
        fail("InclusionProof error" + what);
        continue;
      }
      if (proof != ref.Path(i, 0, n)) fail("inclusion proof differs" + what);
      if (!ledger::VerifyInclusion(leaves[i], i, n, proof, roots[n])) fail("no verify" + what);
      // Wrong leaf, index, root, or a damaged proof must fail. (A different size must come
      // with that size's root: a proof for size 3 honestly recomputes root 3 when told the size
      // is 4, and no verifier can tell.) The costlier variants run on the smaller trees only.
      bool wrong = n > 1 && ledger::VerifyInclusion(leaves[(i + 1) % n], i, n, proof, roots[n]);
      wrong |= ledger::VerifyInclusion(leaves[i], i, n, proof, Flip(roots[n]));
      wrong |= i + 1 < n && ledger::VerifyInclusion(leaves[i + 1], i + 1, n, proof, roots[n]);
      wrong |= ledger::VerifyInclusion(leaves[i], n, n, proof, roots[n]);
      std::vector<Hash> bad = proof;
      bad.push_back(leaves[0]);
      wrong |= ledger::VerifyInclusion(leaves[i], i, n, bad, roots[n]);
      if (!proof.empty()) {
        bad = proof;
        bad[i % bad.size()] = Flip(bad[i % bad.size()]);
        wrong |= ledger::VerifyInclusion(leaves[i], i, n, bad, roots[n]);
        bad = proof;
        bad.pop_back();
        wrong |= ledger::VerifyInclusion(leaves[i], i, n, bad, roots[n]);
      }
      if (n <= 64) {
        wrong |= i + 1 < n && ledger::VerifyInclusion(leaves[i], i + 1, n, proof, roots[n]);
        wrong |= ledger::VerifyInclusion(leaves[i], i, n + 1, proof, roots[n + 1]);
        wrong |= n > i + 1 && ledger::VerifyInclusion(leaves[i], i, n - 1, proof, roots[n - 1]);
        for (size_t k = 0; k < proof.size(); ++k) {
          bad = proof;
          bad[k] = Flip(bad[k]);
          wrong |= ledger::VerifyInclusion(leaves[i], i, n, bad, roots[n]);
        }
      }
      if (wrong) fail("a wrong inclusion proof verified" + what);
    }

    for (uint64_t m = 1; m <= n; ++m) {
      if (!Sampled(m, n)) continue;
      const std::string what = " from " + std::to_string(m) + at;
      std::vector<Hash> proof;
      if (!ledger::ConsistencyProof(reader, m, n, &proof).ok()) {
        fail("ConsistencyProof error" + what);
        continue;
      }
      if (proof != ref.Consistency(m, n)) fail("consistency proof differs" + what);
      if (!ledger::VerifyConsistency(m, n, roots[m], roots[n], proof)) fail("no verify" + what);
      bool wrong = ledger::VerifyConsistency(m, n, Flip(roots[m]), roots[n], proof);
      wrong |= ledger::VerifyConsistency(m, n, roots[m], Flip(roots[n]), proof);
      wrong |= m < n && ledger::VerifyConsistency(m + 1, n, roots[m + 1], roots[n], proof);
      std::vector<Hash> bad = proof;
      bad.push_back(leaves[0]);
      wrong |= ledger::VerifyConsistency(m, n, roots[m], roots[n], bad);
      if (!proof.empty()) {
        bad = proof;
        bad[m % bad.size()] = Flip(bad[m % bad.size()]);
        wrong |= ledger::VerifyConsistency(m, n, roots[m], roots[n], bad);
        bad = proof;
        bad.pop_back();
        wrong |= ledger::VerifyConsistency(m, n, roots[m], roots[n], bad);
      }
      if (n <= 64) {
        wrong |= m > 1 && ledger::VerifyConsistency(m - 1, n, roots[m - 1], roots[n], proof);
        wrong |= m < n && ledger::VerifyConsistency(m, n - 1, roots[m], roots[n - 1], proof);
        wrong |= ledger::VerifyConsistency(m, n + 1, roots[m], roots[n + 1], proof);
        for (size_t k = 0; k < proof.size(); ++k) {
          bad = proof;
          bad[k] = Flip(bad[k]);
          wrong |= ledger::VerifyConsistency(m, n, roots[m], roots[n], bad);
        }
      }
      if (wrong) fail("a wrong consistency proof verified" + what);
    }
    // From the empty tree only the empty proof and the empty root are accepted.
    if (!ledger::VerifyConsistency(0, n, ledger::EmptyTreeHash(), roots[n], {}) ||
        ledger::VerifyConsistency(0, n, ledger::EmptyTreeHash(), roots[n], {roots[n]}) ||
        ledger::VerifyConsistency(0, n, roots[n], roots[n], {})) {
      fail("consistency from 0" + at);
    }
  }
  INFO((failures.empty() ? std::string() : failures.front()));
  CHECK(failures.size() == 0);
}

TEST_CASE("tile proofs equal the reference around 65,536 leaves", "[tlog]") {
  const std::vector<Hash>& leaves = Leaves70k();
  Reference ref(leaves);
  ledger::MemoryHashReader reader(leaves);
  for (uint64_t n : {uint64_t{65535}, uint64_t{65536}, uint64_t{65537}, uint64_t{70000}}) {
    INFO("size " << n);
    Hash root{};
    REQUIRE(ledger::TreeHash(reader, n, &root).ok());
    CHECK(root == ref.Root(n));
    for (uint64_t i : {0, 1, 255, 256, 257, 12345, 65279, 65280, 65534, 65535, 65536, 69999}) {
      if (i >= n) continue;
      INFO("leaf " << i);
      std::vector<Hash> proof;
      REQUIRE(ledger::InclusionProof(reader, i, n, &proof).ok());
      CHECK(proof == ref.Path(i, 0, n));
      CHECK(ledger::VerifyInclusion(leaves[i], i, n, proof, root));
    }
    for (uint64_t m : {1, 2, 255, 256, 257, 4096, 65535, 65536, 65537, 69999, 70000}) {
      if (m > n) continue;
      INFO("old size " << m);
      std::vector<Hash> proof;
      REQUIRE(ledger::ConsistencyProof(reader, m, n, &proof).ok());
      CHECK(proof == ref.Consistency(m, n));
      CHECK(ledger::VerifyConsistency(m, n, ref.Root(m), root, proof));
    }
  }
}

TEST_CASE("bad requests and short readers give errors, not wrong hashes", "[tlog]") {
  std::vector<Hash> leaves = NumberedLeaves(300, "leaf ");
  ledger::MemoryHashReader reader(leaves);
  std::vector<Hash> out;
  Hash h{};
  using Code = ledger::Status::Code;

  CHECK(ledger::InclusionProof(reader, 5, 5, &out).code() == Code::kInvalidArgument);
  CHECK(ledger::ConsistencyProof(reader, 6, 5, &out).code() == Code::kInvalidArgument);
  CHECK(ledger::NodeHashAt(reader, 2, 1, 7, &h).code() == Code::kInvalidArgument);  // [4,8) of 7
  CHECK(ledger::NodeHashAt(reader, 64, 0, 7, &h).code() == Code::kInvalidArgument);
  CHECK(ledger::NodeHashAt(reader, -1, 0, 7, &h).code() == Code::kInvalidArgument);
  // The reader refuses what a tree of tree_size does not hold.
  CHECK(reader.ReadTileHashes(0, 0, 8, 7, &out).code() == Code::kNotFound);
  CHECK(reader.ReadTileHashes(1, 0, 1, 255, &out).code() == Code::kNotFound);
  CHECK(reader.ReadTileHashes(0, 0, 1, 301, &out).code() == Code::kNotFound);
  CHECK(reader.ReadTileHashes(0, 5, 4, 300, &out).code() == Code::kInvalidArgument);
  CHECK(reader.ReadTileHashes(64, 0, 0, 300, &out).code() == Code::kInvalidArgument);
  REQUIRE(reader.ReadTileHashes(1, 0, 1, 256, &out).ok());
  CHECK(out == std::vector<Hash>{ledger::RootFromLeaves({leaves.begin(), leaves.begin() + 256})});
  CHECK(ledger::TreeHash(reader, 301, &h).code() == Code::kNotFound);
  ledger::CompactRange range;
  CHECK_FALSE(ledger::CompactRange::FromReader(reader, 301, &range).ok());

  // A reader that returns the wrong number of hashes is reported, not trusted.
  struct ShortReader : ledger::HashReader {
    ledger::Status ReadTileHashes(int, uint64_t begin, uint64_t end, uint64_t,
                                  std::vector<Hash>* hashes) override {
      hashes->assign(end - begin - 1, Hash{});
      return ledger::Status::Ok();
    }
  } short_reader;
  CHECK(ledger::NodeHashAt(short_reader, 3, 0, 8, &h).code() == Code::kCorruption);
  CHECK(ledger::TreeHash(short_reader, 8, &h).code() == Code::kCorruption);
}

TEST_CASE("tile bytes round-trip and widths are checked", "[tlog]") {
  std::vector<Hash> hashes = NumberedLeaves(256, "t");
  std::string bytes = ledger::TileBytes(hashes);
  REQUIRE(bytes.size() == 8192);
  std::vector<Hash> back;
  REQUIRE(ledger::ParseTileBytes(bytes, 256, &back).ok());
  CHECK(back == hashes);
  REQUIRE(ledger::ParseTileBytes(std::string_view(bytes).substr(0, 32 * 7), 7, &back).ok());
  CHECK(back == std::vector<Hash>(hashes.begin(), hashes.begin() + 7));
  using Code = ledger::Status::Code;
  CHECK(ledger::ParseTileBytes(bytes, 255, &back).code() == Code::kCorruption);
  CHECK(ledger::ParseTileBytes(std::string_view(bytes).substr(0, 33), 1, &back).code() ==
        Code::kCorruption);
  CHECK(ledger::ParseTileBytes("", 0, &back).code() == Code::kInvalidArgument);
  CHECK(ledger::ParseTileBytes(bytes + std::string(32, 'a'), 257, &back).code() ==
        Code::kInvalidArgument);
  CHECK(ledger::TileBytes({}).empty());
}
