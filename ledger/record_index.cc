#include "ledger/record_index.h"

#include <ctime>
#include <set>

#include "spdlog/spdlog.h"

namespace ledger {

struct RecordIndex::Node {
  NodeId id = 0;
  Node* parent = nullptr;
  std::string name;
  bool directory = false;
  bool sealed = false;
  bool recorded = false;
  uint64_t size = 0;
  uint64_t index = 0;
  Hash sha256{};
  int64_t received_ms = 0;
  // Folders only: children ordered by name, the name kept once (in the child).
  struct ByName {
    using is_transparent = void;
    static std::string_view Key(const Node* n) { return n->name; }
    static std::string_view Key(std::string_view s) { return s; }
    bool operator()(const auto& a, const auto& b) const { return Key(a) < Key(b); }
  };
  std::unique_ptr<std::set<Node*, ByName>> children;
};

namespace {
constexpr size_t kLoadPage = 4096;
}  // namespace

int64_t ParseReceivedMs(std::string_view s) {
  if (!IsCanonicalTimestamp(s)) return 0;
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  struct tm t {};
  t.tm_year = num(0, 4) - 1900;
  t.tm_mon = num(5, 2) - 1;
  t.tm_mday = num(8, 2);
  t.tm_hour = num(11, 2);
  t.tm_min = num(14, 2);
  t.tm_sec = num(17, 2);
  return static_cast<int64_t>(timegm(&t)) * 1000 + num(20, 3);
}

RecordIndex::RecordIndex() {
  NewNode(nullptr, "", /*directory=*/true)->sealed = true;
}
RecordIndex::~RecordIndex() = default;

RecordIndex::Node* RecordIndex::Find(NodeId id) const {
  return id >= kRoot && id - kRoot < nodes_.size() ? nodes_[id - kRoot].get() : nullptr;
}

RecordIndex::Node* RecordIndex::NewNode(Node* parent, std::string name, bool directory) {
  auto node = std::make_unique<Node>();
  node->id = kRoot + nodes_.size();
  node->parent = parent;
  node->name = std::move(name);
  node->directory = directory;
  if (directory) node->children = std::make_unique<std::set<Node*, Node::ByName>>();
  Node* raw = node.get();
  if (parent != nullptr) parent->children->insert(raw);
  nodes_.push_back(std::move(node));
  ++live_nodes_;
  return raw;
}

RecordIndex::Entry RecordIndex::EntryOf(const Node& n) {
  Entry e;
  e.id = n.id;
  e.directory = n.directory;
  e.sealed = n.sealed;
  e.recorded = n.recorded;
  e.size = n.size;
  e.index = n.index;
  e.sha256 = n.sha256;
  e.received_ms = n.received_ms;
  return e;
}

Status RecordIndex::Load(Log* log) {
  uint64_t cursor = 0;
  for (;;) {
    std::vector<std::string> entries;
    uint64_t next = 0;
    LEDGER_RETURN_IF_ERROR(log->ReadSince(cursor, kLoadPage, &entries, &next));
    if (entries.empty()) break;
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < entries.size(); ++i) {
      RecordInfo info;
      if (!ParseManifest(entries[i], &info).ok()) continue;  // not a record: not in the namespace
      info.index = cursor + i;
      if (!AddLocked(info)) {
        ++duplicates_;
        spdlog::warn(
            "record {} (entry {}): the path is already taken by an earlier record; "
            "records/ shows the earlier one",
            EscapeRecordPath(info.path), info.index);
      }
    }
    cursor = next;
  }
  return Status::Ok();
}

bool RecordIndex::AddCommitted(const RecordInfo& info) {
  std::lock_guard<std::mutex> lock(mu_);
  return AddLocked(info);
}

bool RecordIndex::AddLocked(const RecordInfo& info) {
  Node* dir = Find(kRoot);
  size_t start = 0;
  for (;;) {
    const size_t slash = info.path.find('/', start);
    const bool last = slash == std::string::npos;
    const std::string name = info.path.substr(start, last ? std::string::npos : slash - start);
    auto it = dir->children->find(std::string_view(name));
    Node* node = it == dir->children->end() ? nullptr : *it;
    if (!last) {
      if (node == nullptr) {
        node = NewNode(dir, name, /*directory=*/true);  // implicit folder
        node->sealed = true;
      } else if (!node->directory) {
        return false;  // a file stands where the path needs a folder
      }
      dir = node;
      start = slash + 1;
      continue;
    }
    const bool directory = info.kind == RecordInfo::Kind::kDirectory;
    if (node != nullptr) {
      // An implicit folder becomes the folder a directory record names; anything else clashes.
      if (!(directory && node->directory && !node->recorded)) return false;
    } else {
      node = NewNode(dir, name, directory);
    }
    node->sealed = true;
    node->recorded = true;
    node->index = info.index;
    node->received_ms = ParseReceivedMs(info.received);
    if (!directory) {
      node->size = info.size;
      HashFromHex(info.sha256_hex, &node->sha256);
    }
    return true;
  }
}

bool RecordIndex::Get(NodeId id, Entry* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Node* n = Find(id);
  if (n == nullptr) return false;
  *out = EntryOf(*n);
  return true;
}

bool RecordIndex::Lookup(NodeId parent, std::string_view name, Entry* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Node* dir = Find(parent);
  if (dir == nullptr || !dir->directory) return false;
  auto it = dir->children->find(name);
  if (it == dir->children->end()) return false;
  *out = EntryOf(**it);
  return true;
}

bool RecordIndex::LookupPath(std::string_view path, Entry* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Node* n = Find(kRoot);
  size_t start = 0;
  while (n != nullptr && start <= path.size()) {
    if (!n->directory) return false;
    const size_t slash = path.find('/', start);
    auto it = n->children->find(path.substr(start, slash - start));
    n = it == n->children->end() ? nullptr : *it;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (n == nullptr) return false;
  *out = EntryOf(*n);
  return true;
}

Status RecordIndex::List(NodeId id, std::vector<std::pair<std::string, Entry>>* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Node* dir = Find(id);
  if (dir == nullptr || !dir->directory) return Status::NotFound("not a folder");
  out->clear();
  out->reserve(dir->children->size());
  for (const Node* child : *dir->children) out->emplace_back(child->name, EntryOf(*child));
  return Status::Ok();
}

std::string RecordIndex::PathOf(NodeId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const std::string*> parts;
  for (const Node* n = Find(id); n != nullptr && n->parent != nullptr; n = n->parent) {
    parts.push_back(&n->name);
  }
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (!path.empty()) path += '/';
    path += **it;
  }
  return path;
}

Status RecordIndex::Reserve(NodeId parent, std::string_view name, bool directory, NodeId* id,
                            std::string* path) {
  if (name.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("a name may not contain '/'");
  }
  std::string full = PathOf(parent);
  if (!full.empty()) full += '/';
  full += name;
  LEDGER_RETURN_IF_ERROR(ValidateRecordPath(full));
  std::lock_guard<std::mutex> lock(mu_);
  Node* dir = Find(parent);
  if (dir == nullptr || !dir->directory) return Status::NotFound("no such folder");
  if (dir->children->find(name) != dir->children->end()) {
    return Status::AlreadyExists("record path \"" + EscapeRecordPath(full) + "\" exists");
  }
  Node* n = NewNode(dir, std::string(name), directory);
  *id = n->id;
  *path = std::move(full);
  return Status::Ok();
}

Status RecordIndex::ReservePath(std::string_view path, NodeId* id) {
  LEDGER_RETURN_IF_ERROR(ValidateRecordPath(path));
  auto taken = [&] {
    return Status::AlreadyExists("record path \"" + EscapeRecordPath(path) + "\" exists");
  };
  std::lock_guard<std::mutex> lock(mu_);
  Node* dir = Find(kRoot);
  size_t start = 0;
  for (;;) {
    const size_t slash = path.find('/', start);
    const std::string_view name = path.substr(start, slash - start);
    auto it = dir->children->find(name);
    Node* node = it == dir->children->end() ? nullptr : *it;
    if (slash == std::string_view::npos) {
      if (node != nullptr) return taken();
      *id = NewNode(dir, std::string(name), /*directory=*/false)->id;
      return Status::Ok();
    }
    if (node == nullptr) {
      node = NewNode(dir, std::string(name), /*directory=*/true);  // implicit folder
      node->sealed = true;
    } else if (!node->directory) {
      return Status::AlreadyExists("record path \"" + EscapeRecordPath(path.substr(0, slash)) +
                                   "\" is a file, not a folder");
    }
    dir = node;
    start = slash + 1;
  }
}

void RecordIndex::Seal(NodeId id, const RecordInfo& info) {
  std::lock_guard<std::mutex> lock(mu_);
  Node* n = Find(id);
  if (n == nullptr) return;
  n->sealed = true;
  n->recorded = true;
  n->index = info.index;
  n->received_ms = ParseReceivedMs(info.received);
  if (!n->directory) {
    n->size = info.size;
    HashFromHex(info.sha256_hex, &n->sha256);
  }
}

void RecordIndex::Unreserve(NodeId id) {
  std::lock_guard<std::mutex> lock(mu_);
  Node* n = Find(id);
  if (n == nullptr || n->sealed || n->parent == nullptr) return;
  if (n->directory && !n->children->empty()) {
    // A folder whose record failed while an HTTP writer reserved a path inside it: the folder
    // stays, as an implicit one, so what is inside remains visible.
    n->sealed = true;
    return;
  }
  // Remove the node, then each implicit folder it leaves empty (never the root).
  while (n != nullptr && n->parent != nullptr) {
    Node* parent = n->parent;
    parent->children->erase(n);
    nodes_[n->id - kRoot].reset();  // ids are never reused
    --live_nodes_;
    // Implicit folders are sealed but not recorded; a folder reserved by a writer is neither,
    // and stays for its writer.
    const bool implicit_and_empty =
        parent->directory && parent->sealed && !parent->recorded && parent->children->empty();
    n = implicit_and_empty ? parent : nullptr;
  }
}

uint64_t RecordIndex::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_nodes_ - 1;
}

uint64_t RecordIndex::duplicates() const {
  std::lock_guard<std::mutex> lock(mu_);
  return duplicates_;
}

}  // namespace ledger
