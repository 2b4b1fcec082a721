// VerifyTree: one streaming pass over the entry bundles rebuilds every hash tile and the root,
// while a walk of tile/ makes sure no file escapes that pass. Order of work:
//   1. open `checkpoint` (size N) and the archived `checkpoint.*` notes with the verifier keys;
//   2. walk tile/: every file must be a tile path that a tree of size N covers;
//   3. stream bundle by bundle: leaf hashes -> level-0 tile -> its root into level 1 -> ...,
//      comparing each stored tile (and each older partial of it) with the recomputed bytes,
//      and taking the root of every prefix size an archived or --since checkpoint names;
//   4. compare the roots, and require the partials each archived checkpoint implies.
#include "ledger/verifier.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "ledger/bundle.h"
#include "ledger/encoding.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/tile_path.h"
#include "ledger/tlog_math.h"

namespace ledger {

namespace {

constexpr int kWidth = static_cast<int>(kTileWidth);
constexpr int kMaxLevels = 64 / kTileHeight;  // a uint64 size never reaches tile level 8
constexpr size_t kHashSize = sizeof(Hash);
constexpr char kCheckpointName[] = "checkpoint";
constexpr char kArchivedPrefix[] = "checkpoint.";

using TileHashes = std::array<Hash, kTileWidth>;
// Tiles are compared with one memcmp against the recomputed array, which must be the raw bytes.
static_assert(sizeof(TileHashes) == kTileWidth * kHashSize);

std::string Num(uint64_t v) {
  return std::to_string(v);
}

// ---- keys and checkpoint notes -----------------------------------------------------------------

Status ParseVerifiers(const std::vector<std::string>& vkeys, std::vector<NoteVerifier>* out) {
  if (vkeys.empty()) return Status::InvalidArgument("verify: no verifier key given");
  for (const std::string& text : vkeys) {
    NoteVerifier verifier;
    LEDGER_RETURN_IF_ERROR(NoteVerifier::Parse(text, &verifier).WithContext("verifier key"));
    out->push_back(std::move(verifier));
  }
  return Status::Ok();
}

// Opens a checkpoint note with the first key that accepts it; on failure the reason each key gave
// is kept, so "wrong key" and "broken signature" read differently.
Status OpenWithAnyKey(std::string_view note, const std::vector<NoteVerifier>& verifiers,
                      Checkpoint* out) {
  std::string reasons;
  for (const NoteVerifier& verifier : verifiers) {
    Status st = OpenCheckpoint(note, verifier, out);
    if (st.ok()) return st;
    if (!reasons.empty()) reasons += "; ";
    // OpenCheckpoint says "checkpoint: …"; the caller already names the file.
    std::string_view reason = st.message();
    if (reason.starts_with("checkpoint: "))
      reason.remove_prefix(std::string_view("checkpoint: ").size());
    reasons += "with key " + verifier.name() + ": " + std::string(reason);
  }
  return Status::Corruption("does not verify " + reasons);
}

Status ReadCheckpointFile(Storage& tree, const std::string& name,
                          const std::vector<NoteVerifier>& verifiers, Checkpoint* out) {
  std::string note;
  Status st = tree.Read(name, &note);
  if (st.code() == Status::Code::kNotFound) return Status::NotFound(name + ": missing");
  if (!st.ok()) return st.WithContext(name);
  return OpenWithAnyKey(note, verifiers, out).WithContext(name);
}

// An archived checkpoint found next to `checkpoint` (checkpoint.0, checkpoint.1, … in the golden
// layout): a claim by the same log about an earlier size, so it must be a prefix of this tree.
struct Archived {
  std::string name;
  Checkpoint checkpoint;
};

// ---- the walk: every file under tile/ must be covered by size N --------------------------------

// Recurses through `dir`, whose listing is `names`. A name that parses as a tile path is taken as
// a file: the stream reads every covered one (a folder there fails that read, naming it), so here
// it only has to be within size N. Anything else must be a folder to descend into.
Status CheckCoverage(Storage& tree, uint64_t size, const std::string& dir,
                     const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    if (std::optional<ParsedTilePath> parsed = ParseTilePath(path)) {
      const int level = parsed->entries ? 0 : parsed->tile.level;
      const int have = TileWidthAt(level, parsed->tile.index, size);
      if (parsed->tile.width > have) {
        return Status::Corruption(path + ": not covered by the checkpoint (size " + Num(size) +
                                  (have == 0 ? ", where this tile does not exist yet)"
                                             : ", where this tile holds " + Num(have) + ")"));
      }
      continue;
    }
    std::vector<std::string> children;
    if (!tree.List(path, &children).ok()) {
      return Status::Corruption(path + ": not a tile path, not covered by the checkpoint");
    }
    LEDGER_RETURN_IF_ERROR(CheckCoverage(tree, size, path, children));
  }
  return Status::Ok();
}

// ---- the stream: rebuild every tile from the bundles -------------------------------------------

// Holds one tile's worth of hashes per level: the right edge of the tree being rebuilt. Level L
// holds the hashes of nodes at height 8L after the last full level-L tile, so its `count` is
// (done >> 8L) % 256 and the root of any size it passes can be folded from these buffers alone.
class TreeStream {
 public:
  // `root` is the checkpoint's claim; it only serves to say which file is damaged when a bundle
  // and its tile disagree (the caller compares root() with it).
  TreeStream(Storage& tree, uint64_t size, const Hash& root, const VerifyOptions& options,
             VerifyReport* report)
      : tree_(tree), size_(size), claimed_root_(root), options_(options), report_(report) {}

  // Asks Run() to record the root of the first `m` entries (m <= size).
  void WantPrefixRoot(uint64_t m) { targets_.push_back(m); }
  Status Run();
  const Hash& root() const { return root_; }
  // The root recorded for size m, or null if m was not asked for (or Run() did not finish).
  const Hash* PrefixRoot(uint64_t m) const {
    auto it = prefix_roots_.find(m);
    return it == prefix_roots_.end() ? nullptr : &it->second;
  }

 private:
  struct Level {
    TileHashes hashes;
    int count = 0;       // hashes held: the width of the tile being built
    uint64_t index = 0;  // index of that tile = full tiles completed at this level
  };

  Status ProcessBundle(uint64_t index, int width);
  Status FrameBundle(const std::string& path, int width);
  Status CheckOlderBundles(uint64_t index, int width);
  Status CompleteTile(int level);
  Status CheckTile(int level, uint64_t index, int width);
  Status CompareTile(const std::string& path, std::string_view bytes, int level, uint64_t index,
                     int width, int source_width);
  bool StoredLeafTileIsBacked(uint64_t index, int width, std::string_view bytes);
  Status ReadNeeded(const std::string& path, std::string* out);
  // Lists `dir` (a tile's "<N>.p" folder) into names, empty if it does not exist. `kind` is 0 for
  // bundles and 1 + level for hash tiles.
  Status ListPartials(int kind, const std::string& dir, std::vector<std::string>* names);
  Hash SubtreeRoot(const Hash* hashes, int n);
  Hash CurrentRoot();
  void AfterLeaf();
  void ReportProgress();

  Storage& tree_;
  const uint64_t size_;
  const Hash claimed_root_;
  const VerifyOptions& options_;
  VerifyReport* report_;

  std::vector<Level> levels_;
  uint64_t done_ = 0;  // leaves hashed so far
  std::vector<uint64_t> targets_;
  size_t next_target_ = 0;
  std::map<uint64_t, Hash> prefix_roots_;
  Hash root_{};
  uint64_t next_progress_ = 0;
  uint64_t progress_step_ = 1;

  // Reused across bundles so the steady state allocates nothing per bundle or per entry.
  std::string bundle_;
  std::string tile_;
  std::string older_;
  std::vector<std::string> names_;
  std::vector<std::string_view> entries_;  // the entries of bundle_, pointing into it

  // The "<N>.p" folders present in the folder last visited for each kind of tile. Most tiles
  // have none, and one listing of their folder (up to 1,000 tiles) is far cheaper than a failed
  // open per tile; memory stays bounded by one folder per kind.
  struct FolderPartials {
    std::string folder;
    bool listed = false;
    std::vector<std::string> partial_dirs;  // sorted
  };
  std::array<FolderPartials, 1 + kMaxLevels> folders_;
  TileHashes scratch_;
};

Status TreeStream::Run() {
  levels_.reserve(kMaxLevels);
  for (int level = 0; level < kMaxLevels && (size_ >> (kTileHeight * level)) > 0; ++level) {
    levels_.emplace_back();
  }
  std::sort(targets_.begin(), targets_.end());
  targets_.erase(std::unique(targets_.begin(), targets_.end()), targets_.end());
  if (!targets_.empty() && targets_.front() == 0) {
    prefix_roots_[0] = EmptyTreeHash();
    next_target_ = 1;
  }
  progress_step_ = std::max<uint64_t>(1, size_ / 100);

  const uint64_t bundles = size_ / kTileWidth + (size_ % kTileWidth != 0 ? 1 : 0);
  for (uint64_t b = 0; b < bundles; ++b) {
    LEDGER_RETURN_IF_ERROR(ProcessBundle(b, TileWidthAt(0, b, size_)));
  }
  // Full tiles were checked as they completed, and level 0's right edge with the last bundle;
  // what is left at each level above is its right edge.
  for (size_t level = 1; level < levels_.size(); ++level) {
    const Level& lv = levels_[level];
    if (lv.count > 0)
      LEDGER_RETURN_IF_ERROR(CheckTile(static_cast<int>(level), lv.index, lv.count));
  }
  root_ = CurrentRoot();
  if (options_.progress && size_ == 0) options_.progress(0, 0);
  return Status::Ok();
}

Status TreeStream::ProcessBundle(uint64_t index, int width) {
  const std::string path = EntryBundlePath(index, width);
  LEDGER_RETURN_IF_ERROR(ReadNeeded(path, &bundle_));
  LEDGER_RETURN_IF_ERROR(FrameBundle(path, width));
  Level& leaves = levels_[0];
  const uint64_t first = index * kTileWidth;
  for (int i = 0; i < width; ++i) {
    const std::string_view entry = entries_[static_cast<size_t>(i)];
    leaves.hashes[static_cast<size_t>(leaves.count++)] = LeafHash(entry);
    if (options_.entry_check) {
      Status st = options_.entry_check(first + static_cast<uint64_t>(i), entry);
      if (!st.ok())
        return st.WithContext(path + ": entry " + Num(first + static_cast<uint64_t>(i)));
    }
    AfterLeaf();
  }
  ++report_->bundles_checked;
  ++report_->files_checked;
  report_->entries = done_;
  // The bundle against its tile first: then a damaged bundle is named as such, not blamed on an
  // older partial that is a prefix of it. The last bundle's tile is the level-0 right edge.
  LEDGER_RETURN_IF_ERROR(width == kWidth ? CompleteTile(0) : CheckTile(0, index, width));
  LEDGER_RETURN_IF_ERROR(CheckOlderBundles(index, width));
  ReportProgress();
  return Status::Ok();
}

// Splits bundle_ into views (no copy per entry: copying would cost more than hashing) and
// checks that it holds exactly `width` entries.
Status TreeStream::FrameBundle(const std::string& path, int width) {
  LEDGER_RETURN_IF_ERROR(SplitBundle(bundle_, &entries_).WithContext(path));
  if (entries_.size() != static_cast<size_t>(width)) {
    return Status::Corruption(path + ": holds " + Num(entries_.size()) + " entries, want " +
                              Num(static_cast<uint64_t>(width)) +
                              (entries_.size() > static_cast<size_t>(width)
                                   ? " (the bundle must hold exactly that many)"
                                   : ""));
  }
  return Status::Ok();
}

// Older partial bundles of this bundle (tile/entries/N.p/W with W below its width at size N)
// must be byte-exact prefixes: the first W frames.
Status TreeStream::CheckOlderBundles(uint64_t index, int width) {
  const std::string current = EntryBundlePath(index, width);
  const std::string dir = EntryBundlePath(index, kWidth) + ".p";
  LEDGER_RETURN_IF_ERROR(ListPartials(0, dir, &names_));
  for (const std::string& name : names_) {
    std::optional<uint64_t> w = ParseDecimal(name);
    // Bad names and widths beyond size N are the walk's to report; W == width is `current`.
    if (!w || *w == 0 || *w >= static_cast<uint64_t>(width)) continue;
    const std::string path = dir + "/" + name;
    LEDGER_RETURN_IF_ERROR(ReadNeeded(path, &older_));
    // The first W frames end where entry W-1 ends.
    const std::string_view last = entries_[*w - 1];
    const size_t want = static_cast<size_t>(last.data() + last.size() - bundle_.data());
    if (older_.size() != want) {
      return Status::Corruption(path + ": " + Num(older_.size()) + " bytes, but the first " + name +
                                " entries of " + current + " take " + Num(want));
    }
    if (std::memcmp(older_.data(), bundle_.data(), want) != 0) {
      size_t at = 0;
      while (older_[at] == bundle_[at]) ++at;
      return Status::Corruption(path + ": byte " + Num(at) + " differs from " + current +
                                " (a partial bundle must be a prefix of the full one)");
    }
    ++report_->bundles_checked;
    ++report_->files_checked;
  }
  return Status::Ok();
}

// Level `level` holds a full tile: compare it, then hand its root to the level above.
Status TreeStream::CompleteTile(int level) {
  Level& lv = levels_[static_cast<size_t>(level)];
  LEDGER_RETURN_IF_ERROR(CheckTile(level, lv.index, kWidth));
  const Hash root = SubtreeRoot(lv.hashes.data(), kWidth);
  lv.count = 0;
  ++lv.index;
  // A full tile at level L means size >= 256^(L+1), so level L+1 exists; guard all the same.
  if (static_cast<size_t>(level) + 1 >= levels_.size()) {
    return Status::Corruption("verifier: tile level " + Num(static_cast<uint64_t>(level) + 1) +
                              " beyond the tree (internal error)");
  }
  Level& up = levels_[static_cast<size_t>(level) + 1];
  up.hashes[static_cast<size_t>(up.count++)] = root;
  return up.count == kWidth ? CompleteTile(level + 1) : Status::Ok();
}

// Compares the stored tile (level, index) of `width` hashes, and every older partial of it.
Status TreeStream::CheckTile(int level, uint64_t index, int width) {
  const std::string path = HashTilePath(TileId{level, index, width});
  LEDGER_RETURN_IF_ERROR(ReadNeeded(path, &tile_));
  LEDGER_RETURN_IF_ERROR(CompareTile(path, tile_, level, index, width, width));
  ++report_->tiles_checked;
  ++report_->files_checked;

  const std::string dir = HashTilePath(TileId{level, index, kWidth}) + ".p";
  LEDGER_RETURN_IF_ERROR(ListPartials(1 + level, dir, &names_));
  for (const std::string& name : names_) {
    std::optional<uint64_t> w = ParseDecimal(name);
    if (!w || *w == 0 || *w >= static_cast<uint64_t>(width)) continue;  // as for bundles
    const std::string older_path = dir + "/" + name;
    LEDGER_RETURN_IF_ERROR(ReadNeeded(older_path, &older_));
    LEDGER_RETURN_IF_ERROR(
        CompareTile(older_path, older_, level, index, static_cast<int>(*w), width));
    ++report_->tiles_checked;
    ++report_->files_checked;
  }
  return Status::Ok();
}

// `bytes` must be the first `width` recomputed hashes of tile (level, index). source_width is the
// tile's width at size N, which names the bundle the level-0 hashes were computed from.
Status TreeStream::CompareTile(const std::string& path, std::string_view bytes, int level,
                               uint64_t index, int width, int source_width) {
  const TileHashes& hashes = levels_[static_cast<size_t>(level)].hashes;
  const size_t want = static_cast<size_t>(width) * kHashSize;
  if (bytes.size() != want) {
    return Status::Corruption(path + ": " + Num(bytes.size()) + " bytes, want " + Num(want) + " (" +
                              Num(static_cast<uint64_t>(width)) + " hashes)");
  }
  if (std::memcmp(bytes.data(), hashes.data(), want) == 0) return Status::Ok();
  size_t i = 0;
  while (std::memcmp(bytes.data() + i * kHashSize, hashes[i].data(), kHashSize) == 0) ++i;
  std::string source;
  if (level == 0) {
    const uint64_t entry = index * kTileWidth + i;
    const std::string bundle = EntryBundlePath(index, source_width);
    if (width == source_width && StoredLeafTileIsBacked(index, width, bytes)) {
      return Status::Corruption(bundle + ": entry " + Num(entry) + " does not hash to hash " +
                                Num(i) + " of " + path +
                                ", and the rest of the tree agrees with that tile");
    }
    source = "the leaf hash of entry " + Num(entry) + " in " + bundle;
  } else {
    source = "the root of " + HashTilePath(TileId{level - 1, index * kTileWidth + i, kWidth});
  }
  return Status::Corruption(path + ": hash " + Num(i) + " does not match " + source);
}

// A bundle and its level-0 tile disagree: is the stored tile the one the rest of the tree backs
// (so the bundle is damaged)? A full tile is backed if its root is the parent tile's hash; the
// right-edge tile if, put in place of the recomputed one, it yields the checkpoint's root. Runs on
// the error path only.
bool TreeStream::StoredLeafTileIsBacked(uint64_t index, int width, std::string_view bytes) {
  TileHashes stored;
  std::memcpy(stored.data(), bytes.data(), static_cast<size_t>(width) * kHashSize);
  if (width == kWidth) {
    const uint64_t parent = index / kTileWidth;
    const size_t pos = static_cast<size_t>(index % kTileWidth);
    std::string parent_bytes;
    const TileId parent_id{1, parent, TileWidthAt(1, parent, size_)};
    if (!tree_.Read(HashTilePath(parent_id), &parent_bytes).ok() ||
        parent_bytes.size() < (pos + 1) * kHashSize) {
      return false;
    }
    const Hash root = SubtreeRoot(stored.data(), kWidth);
    return std::memcmp(parent_bytes.data() + pos * kHashSize, root.data(), kHashSize) == 0;
  }
  std::swap(stored, levels_[0].hashes);
  const Hash root = CurrentRoot();
  std::swap(stored, levels_[0].hashes);
  return root == claimed_root_;
}

Status TreeStream::ReadNeeded(const std::string& path, std::string* out) {
  Status st = tree_.Read(path, out);
  if (st.code() == Status::Code::kNotFound) {
    return Status::NotFound(path + ": missing, but the checkpoint (size " + Num(size_) +
                            ") needs it");
  }
  return st.ok() ? st : st.WithContext(path);
}

Status TreeStream::ListPartials(int kind, const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  const size_t slash = dir.rfind('/');
  const std::string folder = dir.substr(0, slash);
  FolderPartials& cache = folders_[static_cast<size_t>(kind)];
  if (!cache.listed || cache.folder != folder) {
    cache.folder = folder;
    cache.listed = true;
    cache.partial_dirs.clear();
    std::vector<std::string> all;
    Status st = tree_.List(folder, &all);
    if (!st.ok() && st.code() != Status::Code::kNotFound) return st.WithContext(folder);
    for (std::string& name : all) {
      if (name.ends_with(".p")) cache.partial_dirs.push_back(std::move(name));
    }
    std::sort(cache.partial_dirs.begin(), cache.partial_dirs.end());
  }
  const std::string_view base = std::string_view(dir).substr(slash + 1);
  if (!std::binary_search(cache.partial_dirs.begin(), cache.partial_dirs.end(), base)) {
    return Status::Ok();  // no older partials: the usual case
  }
  Status st = tree_.List(dir, names);
  if (st.code() == Status::Code::kNotFound) {
    names->clear();
    return Status::Ok();
  }
  return st.ok() ? st : st.WithContext(dir);
}

// MTH of n consecutive hashes, n a power of two (1..256).
Hash TreeStream::SubtreeRoot(const Hash* hashes, int n) {
  if (n == 1) return hashes[0];
  for (int i = 0; i < n / 2; ++i) {
    scratch_[static_cast<size_t>(i)] = NodeHash(hashes[2 * i], hashes[2 * i + 1]);
  }
  for (int w = n / 2; w > 1; w /= 2) {
    for (int i = 0; i < w / 2; ++i) {
      const size_t k = static_cast<size_t>(i);
      scratch_[k] = NodeHash(scratch_[2 * k], scratch_[2 * k + 1]);
    }
  }
  return scratch_[0];
}

// Root of the first done_ leaves: the perfect subtrees held in the level buffers (highest level
// first, then each buffer's count split into powers of two), folded right to left.
Hash TreeStream::CurrentRoot() {
  std::vector<Hash> peaks;
  for (size_t level = levels_.size(); level-- > 0;) {
    const Level& lv = levels_[level];
    int offset = 0;
    for (int bit = kTileHeight; bit >= 0; --bit) {
      const int n = 1 << bit;
      if ((lv.count & n) == 0) continue;
      peaks.push_back(SubtreeRoot(&lv.hashes[static_cast<size_t>(offset)], n));
      offset += n;
    }
  }
  if (peaks.empty()) return EmptyTreeHash();
  Hash acc = peaks.back();
  for (size_t i = peaks.size() - 1; i-- > 0;) acc = NodeHash(peaks[i], acc);
  return acc;
}

void TreeStream::AfterLeaf() {
  ++done_;
  if (next_target_ < targets_.size() && targets_[next_target_] == done_) {
    prefix_roots_[done_] = CurrentRoot();
    ++next_target_;
  }
}

void TreeStream::ReportProgress() {
  if (!options_.progress) return;
  if (done_ >= next_progress_ || done_ == size_) {
    options_.progress(done_, size_);
    next_progress_ = done_ + progress_step_;
  }
}

// ---- the whole check ----------------------------------------------------------------------------

// The partials a tree of size m publishes at its right edge, unless the tile has since become
// full at size n: the spec lets a log delete a partial once the full tile exists, but every
// checkpoint it produced must stay servable, so an archived checkpoint's partials must exist.
Status CheckArchivedPartials(Storage& tree, const Archived& archived, uint64_t n) {
  const uint64_t m = archived.checkpoint.size;
  for (int level = 0; level < kMaxLevels && (m >> (kTileHeight * level)) > 0; ++level) {
    const uint64_t nodes = m >> (kTileHeight * level);
    const int width = static_cast<int>(nodes % kTileWidth);
    const uint64_t index = nodes / kTileWidth;
    if (width == 0 || TileWidthAt(level, index, n) == kWidth) continue;
    std::vector<std::string> paths = {HashTilePath(TileId{level, index, width})};
    if (level == 0) paths.push_back(EntryBundlePath(index, width));
    for (const std::string& path : paths) {
      if (!tree.Exists(path)) {
        return Status::NotFound(path + ": missing, but " + archived.name + " (size " + Num(m) +
                                ") needs it");
      }
    }
  }
  return Status::Ok();
}

std::string RootMismatch(const Hash& claimed, const Hash& recomputed, uint64_t size) {
  return "root " + HashToBase64(claimed) + " does not match " + HashToBase64(recomputed) +
         ", the root recomputed from the entries for size " + Num(size);
}

// Cannot happen (every size asked for is <= N and Run() passed it); kept as a Status anyway.
Status MissingPrefixRoot(uint64_t size) {
  return Status::Corruption("verifier: no root recorded for size " + Num(size) +
                            " (internal error)");
}

// The bytes of `checkpoint`, or "" if it cannot be read now (the next pass says why).
std::string CheckpointBytes(Storage& tree) {
  std::string note;
  if (!tree.Read(kCheckpointName, &note).ok()) note.clear();
  return note;
}

}  // namespace

Status VerifyTree(Storage& tree, const VerifyOptions& options, VerifyReport* report_out) {
  VerifyReport local;
  VerifyReport& report = report_out != nullptr ? *report_out : local;
  report = VerifyReport{};

  std::vector<NoteVerifier> verifiers;
  LEDGER_RETURN_IF_ERROR(ParseVerifiers(options.vkeys, &verifiers));

  // 1. The checkpoint fixes N and the root everything else is checked against.
  Checkpoint cp;
  LEDGER_RETURN_IF_ERROR(ReadCheckpointFile(tree, kCheckpointName, verifiers, &cp));
  report.checkpoint = cp;
  ++report.files_checked;
  const uint64_t n = cp.size;

  // The root: archived checkpoints are checked, private and content folders are someone else's.
  std::vector<std::string> root_names;
  LEDGER_RETURN_IF_ERROR(tree.List("", &root_names).WithContext("listing the tree root"));
  std::vector<Archived> archived;
  bool has_tile = false;
  for (const std::string& name : root_names) {
    if (name == kCheckpointName || name == ".ledger" || name == "content") continue;
    if (name == "tile") {
      has_tile = true;
    } else if (name.rfind(kArchivedPrefix, 0) == 0) {
      Archived a{name, {}};
      LEDGER_RETURN_IF_ERROR(ReadCheckpointFile(tree, name, verifiers, &a.checkpoint));
      ++report.files_checked;
      if (a.checkpoint.origin != cp.origin) {
        return Status::Corruption(name + ": origin \"" + a.checkpoint.origin +
                                  "\" is not the checkpoint's \"" + cp.origin + "\"");
      }
      if (a.checkpoint.size > n) {
        return Status::Corruption(name + ": size " + Num(a.checkpoint.size) +
                                  " is not covered by the checkpoint (size " + Num(n) + ")");
      }
      archived.push_back(std::move(a));
    } else {
      report.notes.push_back("ignored unexpected entry at the root: " + name);
    }
  }

  std::optional<Checkpoint> since;
  if (options.since_checkpoint) {
    const std::string what = "checkpoint is not an extension of the --since checkpoint";
    Checkpoint old;
    Status st = OpenWithAnyKey(*options.since_checkpoint, verifiers, &old);
    if (!st.ok()) return Status::Corruption(what + ": the --since checkpoint " + st.message());
    if (old.origin != cp.origin) {
      return Status::Corruption(what + ": its origin is \"" + old.origin + "\", not \"" +
                                cp.origin + "\"");
    }
    if (old.size > n) {
      return Status::Corruption(what + ": its size " + Num(old.size) + " exceeds " + Num(n));
    }
    since = std::move(old);
  }

  // 2. Nothing under tile/ may lie outside size N.
  if (has_tile) {
    std::vector<std::string> names;
    LEDGER_RETURN_IF_ERROR(tree.List("tile", &names).WithContext("tile"));
    LEDGER_RETURN_IF_ERROR(CheckCoverage(tree, n, "tile", names));
  }

  // 3. Rebuild everything from the entries.
  TreeStream stream(tree, n, cp.root, options, &report);
  for (const Archived& a : archived) stream.WantPrefixRoot(a.checkpoint.size);
  if (since) stream.WantPrefixRoot(since->size);
  LEDGER_RETURN_IF_ERROR(stream.Run());

  // 4. Roots, and the partials every archived checkpoint needs.
  if (stream.root() != cp.root) {
    return Status::Corruption(std::string(kCheckpointName) + ": " +
                              RootMismatch(cp.root, stream.root(), n));
  }
  for (const Archived& a : archived) {
    const Hash* recomputed = stream.PrefixRoot(a.checkpoint.size);
    if (recomputed == nullptr) return MissingPrefixRoot(a.checkpoint.size);
    if (*recomputed != a.checkpoint.root) {
      return Status::Corruption(a.name + ": " +
                                RootMismatch(a.checkpoint.root, *recomputed, a.checkpoint.size));
    }
    LEDGER_RETURN_IF_ERROR(CheckArchivedPartials(tree, a, n));
  }
  // --since needs no partials: it comes from outside the tree, so only its root is the tree's
  // business (a consistency check by recomputation).
  if (since) {
    const Hash* recomputed = stream.PrefixRoot(since->size);
    if (recomputed == nullptr) return MissingPrefixRoot(since->size);
    if (*recomputed != since->root) {
      return Status::Corruption(
          "checkpoint is not an extension of the --since checkpoint: the --since " +
          RootMismatch(since->root, *recomputed, since->size));
    }
  }
  if (!archived.empty()) {
    report.notes.push_back(Num(archived.size()) + " archived checkpoint(s) are prefixes of it");
  }
  if (since)
    report.notes.push_back("extends the --since checkpoint (size " + Num(since->size) + ")");
  return Status::Ok();
}

// ---- a tree that is being published into --------------------------------------------------------

namespace {

// The smallest tree size at which tile `parsed` holds its width: (index·256 + width) nodes at
// its level. nullopt if no uint64 size reaches it.
std::optional<uint64_t> SizeCovering(const ParsedTilePath& parsed) {
  const int level = parsed.entries ? 0 : parsed.tile.level;
  const uint64_t width = static_cast<uint64_t>(parsed.tile.width);
  if (level < 0 || level >= kMaxLevels || parsed.tile.index > (UINT64_MAX - width) / kTileWidth) {
    return std::nullopt;
  }
  const uint64_t nodes = parsed.tile.index * kTileWidth + width;
  const int shift = kTileHeight * level;
  if (nodes > (UINT64_MAX >> shift)) return std::nullopt;
  return nodes << shift;
}

// The tree as one VerifyTree pass sees it while a log publishes into it. The pass verifies the
// checkpoint it read first (size N); what the publisher does meanwhile is kept out of its way:
//  - a file under tile/ beyond N is listed only if no checkpoint covering it appears within
//    `settle` (one that opens with the verifier keys): the publisher writes the next size's
//    files before it replaces the checkpoint, so such files are the next verify's business; a
//    file no checkpoint covers stays in the listing and the walk reports it;
//  - a partial tile, bundle or `.p` folder the pass needs but finds pruned (tlog-tiles lets a log
//    delete partials once the full tile exists) reads as the prefix of the full one, as
//    StorageHashReader reads it: those bytes are still compared with the recomputed ones.
// A tree at rest reads exactly as without the view: no later checkpoint ever appears, and a full
// tile beyond N, which the pruning substitute needs, is refused by the walk before any stream.
// Serves reads only.
class LiveTreeView final : public Storage {
 public:
  LiveTreeView(Storage& base, const std::vector<NoteVerifier>& verifiers,
               const LiveVerifyOptions& live)
      : base_(base), verifiers_(verifiers), live_(live) {}

  // What the view did during the pass that ended.
  struct PassStats {
    std::string origin;              // of the checkpoint the pass read
    uint64_t pass_size = 0;          // its size
    uint64_t later_size = 0;         // largest later checkpoint seen (0 if none)
    std::set<std::string> deferred;  // files beyond pass_size left out of listings
    uint64_t substituted = 0;        // pruned partials read from their full tile
    bool waited_out = false;         // waited `settle` for a later checkpoint in vain
  };
  PassStats TakeStats() { return std::exchange(stats_, PassStats{}); }

  std::string Describe() const override { return base_.Describe(); }

  Status Read(const std::string& name, std::string* out) override {
    Status st = base_.Read(name, out);
    if (name == kCheckpointName) {
      // A pass starts by reading the checkpoint; its size bounds what this pass lists.
      stats_ = PassStats{};
      Checkpoint cp;
      if (st.ok() && OpenWithAnyKey(*out, verifiers_, &cp).ok()) {
        stats_.origin = cp.origin;
        stats_.pass_size = cp.size;
        later_note_ = *out;
      }
      return st;
    }
    if (st.code() != Status::Code::kNotFound) return st;
    std::optional<ParsedTilePath> parsed = ParseTilePath(name);
    if (!parsed || parsed->tile.width >= kWidth) return st;
    std::string bytes;
    if (!base_.Read(FullTileOf(*parsed), &bytes).ok()) return st;
    const size_t width = static_cast<size_t>(parsed->tile.width);
    size_t keep = width * kHashSize;
    if (parsed->entries) {
      std::vector<std::string_view> entries;
      if (!SplitBundle(bytes, &entries).ok() || entries.size() < width) return st;
      const std::string_view last = entries[width - 1];
      keep = static_cast<size_t>(last.data() + last.size() - bytes.data());
    }
    if (bytes.size() < keep) return st;
    bytes.resize(keep);
    *out = std::move(bytes);
    ++stats_.substituted;
    return Status::Ok();
  }

  Status List(const std::string& dir, std::vector<std::string>* names) override {
    Status st = base_.List(dir, names);
    if (st.code() == Status::Code::kNotFound && dir.ends_with(".p")) {
      // A pruned partials folder, if its full tile is there.
      std::optional<ParsedTilePath> full =
          ParseTilePath(std::string_view(dir).substr(0, dir.size() - 2));
      if (full && full->tile.width == kWidth && base_.Exists(dir.substr(0, dir.size() - 2))) {
        names->clear();
        return Status::Ok();
      }
    }
    if (!st.ok()) return st;
    std::erase_if(*names, [&](const std::string& name) {
      const std::string path = dir + "/" + name;
      std::optional<ParsedTilePath> parsed = ParseTilePath(path);
      if (!parsed) return false;
      std::optional<uint64_t> need = SizeCovering(*parsed);
      if (!need || *need <= stats_.pass_size || !LaterCheckpointCovers(*need)) return false;
      stats_.deferred.insert(path);
      return true;
    });
    return Status::Ok();
  }

  Status ReadAt(const std::string& name, uint64_t offset, size_t n, std::string* out) override {
    return base_.ReadAt(name, offset, n, out);
  }
  Status Size(const std::string& name, uint64_t* out) override { return base_.Size(name, out); }
  bool Exists(const std::string& name) override { return base_.Exists(name); }

  Status PutIfAbsent(const std::string& name, std::string_view) override { return ReadOnly(name); }
  Status Replace(const std::string& name, std::string_view) override { return ReadOnly(name); }
  Status Remove(const std::string& name) override { return ReadOnly(name); }
  Status RemoveTree(const std::string& dir) override { return ReadOnly(dir); }
  Status OpenAppendable(const std::string& name, std::unique_ptr<StorageWriter>*) override {
    return ReadOnly(name);
  }
  Status CreateStaged(const std::string& dir, std::unique_ptr<StorageWriter>*) override {
    return ReadOnly(dir);
  }
  Status Rename(const std::string& from, const std::string&) override { return ReadOnly(from); }
  Status SyncDir(const std::string& dir) override { return ReadOnly(dir); }
  Status Lock(const std::string& name, std::unique_ptr<StorageLock>*) override {
    return ReadOnly(name);
  }

 private:
  static Status ReadOnly(const std::string& name) {
    return Status::InvalidArgument(name + ": the verifier's view of a tree is read-only");
  }

  static std::string FullTileOf(const ParsedTilePath& parsed) {
    const TileId& id = parsed.tile;
    return parsed.entries ? EntryBundlePath(id.index, kWidth)
                          : HashTilePath(TileId{id.level, id.index, kWidth});
  }

  // Whether a checkpoint of the same log (it opens with the keys, same origin) of size >= `need`
  // is (or, within `settle`, becomes) the tree's checkpoint.
  bool LaterCheckpointCovers(uint64_t need) {
    // One wait per pass: once `settle` went by without a new checkpoint, look only once more.
    const auto deadline = std::chrono::steady_clock::now() +
                          (stats_.waited_out ? std::chrono::milliseconds(0) : live_.settle);
    const auto poll = std::max(live_.poll_interval, std::chrono::milliseconds(1));
    for (;;) {
      if (stats_.later_size >= need) return true;
      std::string note;
      if (base_.Read(kCheckpointName, &note).ok() && note != later_note_) {
        later_note_ = note;
        Checkpoint cp;
        if (OpenWithAnyKey(note, verifiers_, &cp).ok() && cp.origin == stats_.origin &&
            cp.size > stats_.pass_size) {
          stats_.later_size = std::max(stats_.later_size, cp.size);
          continue;
        }
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        stats_.waited_out = true;
        return false;
      }
      std::this_thread::sleep_for(poll);
    }
  }

  Storage& base_;
  const std::vector<NoteVerifier>& verifiers_;
  const LiveVerifyOptions& live_;
  PassStats stats_;
  std::string later_note_;  // the checkpoint bytes last looked at
};

}  // namespace

Status VerifyLiveTree(Storage& tree_in, const VerifyOptions& options, const LiveVerifyOptions& live,
                      VerifyReport* report_out) {
  VerifyReport local;
  VerifyReport& report = report_out != nullptr ? *report_out : local;
  report = VerifyReport{};
  std::vector<NoteVerifier> verifiers;
  LEDGER_RETURN_IF_ERROR(ParseVerifiers(options.vkeys, &verifiers));
  LiveTreeView tree(tree_in, verifiers, live);
  const int max_attempts = std::max(1, live.max_attempts);
  const auto poll = std::max(live.poll_interval, std::chrono::milliseconds(1));
  // A pass reads `checkpoint` itself; the bytes read before and after it tell whether the tree
  // moved under it. A checkpoint only grows, so equal bytes mean the pass saw these bytes too.
  std::string before = CheckpointBytes(tree_in);
  for (int attempt = 1;; ++attempt) {
    Status st = VerifyTree(tree, options, &report);
    report.attempts = attempt;
    report.checkpoint_moved = false;
    const LiveTreeView::PassStats stats = tree.TakeStats();
    if (st.ok() && !stats.deferred.empty()) {
      report.notes.push_back(Num(stats.deferred.size()) + " file(s) under tile/ beyond size " +
                             Num(stats.pass_size) +
                             " were left to the next verify: the log was publishing them "
                             "(a checkpoint of size " +
                             Num(stats.later_size) + " covers them)");
    }
    if (st.ok() && stats.substituted > 0) {
      report.notes.push_back(Num(stats.substituted) +
                             " partial tile(s) were pruned by the log during the run and read as "
                             "the prefix of their full tile");
    }
    if (st.ok()) return st;
    // Anything else that tripped over the publisher: verify again against the new checkpoint,
    // once the publisher has replaced it (it may still be writing when the pass fails).
    // (Not twice: if the pass already waited for one in vain, the checkpoint was stable.)
    std::string after = CheckpointBytes(tree_in);
    const auto deadline = std::chrono::steady_clock::now() +
                          (stats.waited_out ? std::chrono::milliseconds(0) : live.settle);
    while (after == before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(poll);
      after = CheckpointBytes(tree_in);
    }
    if (after == before) return st;  // the failure holds for one checkpoint
    report.checkpoint_moved = true;
    if (attempt >= max_attempts) return st;
    if (live.on_retry) live.on_retry(attempt + 1, st);
    before = std::move(after);
  }
}

}  // namespace ledger
