// Fuzzes VerifyTree (ledger/verifier.h), the consumer of a whole published tree that
// `ledgerfs verify` runs on any copy: a mirror, a download, a disk someone else wrote.
//
// The input is a little archive of files in bundle framing (ledger/bundle.h): name, content,
// name, content, ... A file named "checkpoint" or "checkpoint.N" whose content is a checkpoint
// body is signed here with the test key before the verifier sees it. So the fuzzer plays a log
// operator that holds the key: it picks any size and root and any tiles, and the verifier must
// still answer without crashing or hanging. Property: when the verifier accepts a tree, the
// root recomputed here from the entry bundles alone (RootFromLeaves, the reference Merkle code)
// is the checkpoint's root and it counted every entry.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/bundle.h"
#include "ledger/checkpoint.h"
#include "ledger/hash.h"
#include "ledger/records.h"
#include "ledger/storage.h"
#include "ledger/tile_path.h"
#include "ledger/tlog_math.h"
#include "ledger/verifier.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/testdata_signer.h"

namespace {

// A read-only tree in memory: the part of Storage the verifier uses (it promises to use only
// Read, ReadAt, Size, Exists and List). Folders are implied by the file names.
class MemoryTree final : public ledger::Storage {
 public:
  // False (and nothing added) if `name` is not a clean relative path (the record path rules
  // serve) or clashes with a file or folder already there.
  bool Add(const std::string& name, std::string data) {
    if (!ledger::ValidateRecordPath(name).ok() || files_.count(name) || IsFolder(name))
      return false;
    for (size_t slash = name.find('/'); slash != std::string::npos;
         slash = name.find('/', slash + 1)) {
      if (files_.count(name.substr(0, slash))) return false;
    }
    files_[name] = std::move(data);
    return true;
  }

  std::string Describe() const override { return "fuzz tree"; }
  ledger::Status Read(const std::string& name, std::string* out) override {
    auto it = files_.find(name);
    if (it == files_.end()) return Missing(name);
    *out = it->second;
    return ledger::Status::Ok();
  }
  ledger::Status ReadAt(const std::string& name, uint64_t offset, size_t n,
                        std::string* out) override {
    auto it = files_.find(name);
    if (it == files_.end()) return Missing(name);
    out->clear();
    if (offset < it->second.size()) *out = it->second.substr(offset, n);
    return ledger::Status::Ok();
  }
  ledger::Status Size(const std::string& name, uint64_t* out) override {
    auto it = files_.find(name);
    if (it != files_.end()) {
      *out = it->second.size();
      return ledger::Status::Ok();
    }
    if (!IsFolder(name)) return Missing(name);
    *out = 4096;  // what stat says of a folder
    return ledger::Status::Ok();
  }
  bool Exists(const std::string& name) override { return files_.count(name) || IsFolder(name); }
  ledger::Status List(const std::string& dir, std::vector<std::string>* names) override {
    if (files_.count(dir)) return ledger::Status::FromErrno("list " + dir, ENOTDIR);
    if (!dir.empty() && !IsFolder(dir)) return Missing(dir);
    const std::string prefix = dir.empty() ? "" : dir + "/";
    std::set<std::string> children;
    for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
      if (!it->first.starts_with(prefix)) break;
      const std::string rest = it->first.substr(prefix.size());
      children.insert(rest.substr(0, rest.find('/')));
    }
    names->assign(children.begin(), children.end());
    return ledger::Status::Ok();
  }

  // Nothing writes to a tree under verification.
  ledger::Status PutIfAbsent(const std::string&, std::string_view) override { return ReadOnly(); }
  ledger::Status Replace(const std::string&, std::string_view) override { return ReadOnly(); }
  ledger::Status Remove(const std::string&) override { return ReadOnly(); }
  ledger::Status RemoveTree(const std::string&) override { return ReadOnly(); }
  ledger::Status OpenAppendable(const std::string&,
                                std::unique_ptr<ledger::StorageWriter>*) override {
    return ReadOnly();
  }
  ledger::Status CreateStaged(const std::string&,
                              std::unique_ptr<ledger::StorageWriter>*) override {
    return ReadOnly();
  }
  ledger::Status Rename(const std::string&, const std::string&) override { return ReadOnly(); }
  ledger::Status SyncDir(const std::string&) override { return ReadOnly(); }
  ledger::Status Lock(const std::string&, std::unique_ptr<ledger::StorageLock>*) override {
    return ReadOnly();
  }

 private:
  bool IsFolder(const std::string& name) const {
    auto it = files_.lower_bound(name + "/");
    return it != files_.end() && it->first.starts_with(name + "/");
  }
  static ledger::Status Missing(const std::string& name) {
    return ledger::Status::NotFound(name + ": no such file");
  }
  // A property failure, not an answer: the verifier promised not to write.
  static ledger::Status ReadOnly() {
    FUZZ_CHECK(!"the verifier wrote to the tree");
    return ledger::Status::InvalidArgument("read-only");
  }

  std::map<std::string, std::string> files_;
};

// The root of the first `size` entries, read straight from the bundles (the full bundle stands
// in for a missing partial); false if an entry is missing.
bool ReferenceRoot(MemoryTree& tree, uint64_t size, ledger::Hash* root) {
  std::vector<ledger::Hash> leaves;
  for (uint64_t b = 0; b * ledger::kTileWidth < size; ++b) {
    const int width =
        static_cast<int>(std::min<uint64_t>(ledger::kTileWidth, size - b * ledger::kTileWidth));
    std::string bytes;
    if (!tree.Read(ledger::EntryBundlePath(b, width), &bytes).ok() &&
        !tree.Read(ledger::EntryBundlePath(b, static_cast<int>(ledger::kTileWidth)), &bytes).ok()) {
      return false;
    }
    std::vector<std::string_view> entries;
    if (!ledger::SplitBundle(bytes, &entries).ok() || entries.size() < static_cast<size_t>(width)) {
      return false;
    }
    for (int i = 0; i < width; ++i) leaves.push_back(ledger::LeafHash(entries[i]));
  }
  *root = ledger::RootFromLeaves(leaves);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> items;
  if (!ledger::SplitBundle(fuzz::AsView(data, size), &items).ok()) return 0;
  MemoryTree tree;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    const std::string name(items[i]);
    std::string content(items[i + 1]);
    ledger::Checkpoint body;
    if ((name == "checkpoint" || name.starts_with("checkpoint.")) &&
        ledger::ParseCheckpointText(content, &body).ok() &&
        body.origin == fuzz::TestdataSigner().name()) {
      FUZZ_CHECK(ledger::SignCheckpoint(body, fuzz::TestdataSigner(), &content).ok());
    }
    tree.Add(name, std::move(content));
  }

  ledger::VerifyOptions options;
  options.vkeys = {fuzz::TestdataSigner().Verifier().ToString()};
  ledger::VerifyReport report;
  if (!ledger::VerifyTree(tree, options, &report).ok()) return 0;

  FUZZ_CHECK(report.checkpoint.origin == fuzz::TestdataSigner().name());
  FUZZ_CHECK(report.entries == report.checkpoint.size);
  ledger::Hash root;
  FUZZ_CHECK(ReferenceRoot(tree, report.checkpoint.size, &root));
  FUZZ_CHECK(root == report.checkpoint.root);
  return 0;
}
