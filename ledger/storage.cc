// Helpers shared by every Storage implementation.
#include "ledger/storage.h"

namespace ledger {

std::string ParentOf(const std::string& name) {
  size_t slash = name.rfind('/');
  if (slash == std::string::npos) return "";
  return name.substr(0, slash);
}

}  // namespace ledger
