#include "fs/published_view.h"

#include <cerrno>

#include "ledger/log.h"
#include "ledger/tile_path.h"
#include "spdlog/spdlog.h"

namespace fs {

namespace {

// A published file: immutable, read through Storage::ReadAt.
class StoredFile final : public Handle {
 public:
  StoredFile(ledger::Storage* storage, std::string name)
      : storage_(storage), name_(std::move(name)) {}
  int Read(uint64_t offset, size_t n, std::string* out) override {
    ledger::Status st = storage_->ReadAt(name_, offset, n, out);
    if (!st.ok()) {
      spdlog::error("read {}: {}", name_, st.ToString());
      return st.ToErrno();
    }
    return 0;
  }

 private:
  ledger::Storage* const storage_;
  const std::string name_;
};

// The checkpoint as it was when opened: it is replaced atomically, so one read of the whole
// object is one consistent note.
class SnapshotFile final : public Handle {
 public:
  explicit SnapshotFile(std::string data) : data_(std::move(data)) {}
  int Read(uint64_t offset, size_t n, std::string* out) override {
    if (offset >= data_.size()) {
      out->clear();
    } else {
      *out = data_.substr(offset, n);
    }
    return 0;
  }

 private:
  const std::string data_;
};

}  // namespace

PublishedView::PublishedView(ledger::Storage* storage) : storage_(storage) {
  IdFor(ledger::store_layout::kCheckpoint);
  IdFor("tile");
}

uint64_t PublishedView::IdFor(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = ids_.emplace(name, names_.size() + 1);
  if (added) names_.push_back(name);
  return it->second;
}

std::string PublishedView::NameOf(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  return id >= 1 && id <= names_.size() ? names_[id - 1] : std::string();
}

int PublishedView::Stat(const std::string& name, Attr* attr) {
  *attr = Attr{};
  const bool file =
      name == ledger::store_layout::kCheckpoint || ledger::ParseTilePath(name).has_value();
  if (file) {
    ledger::Status st = storage_->Size(name, &attr->size);
    if (!st.ok()) return st.ToErrno();
    attr->changes = name == ledger::store_layout::kCheckpoint;
    return 0;
  }
  attr->directory = true;
  if (name == "tile") return 0;  // shown even before the first tile exists
  // Anything else under tile/ is a folder of the tile layout, if it exists.
  std::vector<std::string> children;
  ledger::Status st = storage_->List(name, &children);
  return st.ok() ? 0 : st.ToErrno();
}

int PublishedView::Lookup(uint64_t parent, std::string_view name, uint64_t* id, Attr* attr) {
  const std::string dir = NameOf(parent);
  if (dir.empty() || name.empty() || name == "." || name == "..") return ENOENT;
  const std::string full = dir + "/" + std::string(name);
  const int err = Stat(full, attr);
  if (err != 0) return err;
  if (!attr->directory && !ledger::ParseTilePath(full)) return ENOENT;
  *id = IdFor(full);
  return 0;
}

int PublishedView::GetAttr(uint64_t id, Attr* attr) {
  const std::string name = NameOf(id);
  if (name.empty()) return ENOENT;
  return Stat(name, attr);
}

int PublishedView::List(uint64_t dir, std::vector<Child>* out) {
  const std::string name = NameOf(dir);
  if (name.empty()) return ENOENT;
  std::vector<std::string> children;
  ledger::Status st = storage_->List(name, &children);
  if (st.code() == ledger::Status::Code::kNotFound && name == "tile") st = ledger::Status::Ok();
  if (!st.ok()) return st.ToErrno();
  out->clear();
  for (const std::string& child : children) {
    const std::string full = name + "/" + child;
    const bool file = ledger::ParseTilePath(full).has_value();
    out->push_back(Child{child, IdFor(full), !file});
  }
  return 0;
}

int PublishedView::Open(uint64_t id, Handle** out) {
  const std::string name = NameOf(id);
  if (name.empty()) return ENOENT;
  if (name == ledger::store_layout::kCheckpoint) {
    std::string note;
    ledger::Status st = storage_->Read(name, &note);
    if (!st.ok()) {
      spdlog::error("read {}: {}", name, st.ToString());
      return st.ToErrno();
    }
    *out = new SnapshotFile(std::move(note));
    return 0;
  }
  if (!ledger::ParseTilePath(name)) return EISDIR;
  *out = new StoredFile(storage_, name);
  return 0;
}

}  // namespace fs
