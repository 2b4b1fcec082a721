// Entry bundle framing: big-endian uint16 length, then the entry bytes, repeated.
#include "ledger/bundle.h"

namespace ledger {

Status AppendToBundle(std::string_view entry, std::string* bundle) {
  if (entry.size() > kMaxEntrySize) {
    return Status::InvalidArgument("entry of " + std::to_string(entry.size()) +
                                   " bytes exceeds the tlog-tiles limit of " +
                                   std::to_string(kMaxEntrySize));
  }
  bundle->push_back(static_cast<char>((entry.size() >> 8) & 0xff));
  bundle->push_back(static_cast<char>(entry.size() & 0xff));
  bundle->append(entry);
  return Status::Ok();
}

Status SplitBundle(std::string_view bundle, std::vector<std::string_view>* entries) {
  entries->clear();
  size_t offset = 0;
  while (offset < bundle.size()) {
    if (bundle.size() - offset < 2) {
      entries->clear();
      return Status::Corruption("bundle torn at byte " + std::to_string(offset) +
                                ": length prefix cut short");
    }
    size_t len = static_cast<size_t>(static_cast<uint8_t>(bundle[offset])) << 8 |
                 static_cast<uint8_t>(bundle[offset + 1]);
    size_t avail = bundle.size() - offset - 2;
    if (avail < len) {
      entries->clear();
      return Status::Corruption("bundle torn at byte " + std::to_string(offset) + ": entry of " +
                                std::to_string(len) + " bytes but only " + std::to_string(avail) +
                                " remain");
    }
    entries->push_back(bundle.substr(offset + 2, len));
    offset += 2 + len;
  }
  return Status::Ok();
}

Status ParseBundle(std::string_view bundle, std::vector<std::string>* entries) {
  std::vector<std::string_view> views;
  LEDGER_RETURN_IF_ERROR(SplitBundle(bundle, &views));
  entries->assign(views.begin(), views.end());
  return Status::Ok();
}

}  // namespace ledger
