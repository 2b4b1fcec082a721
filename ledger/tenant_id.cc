#include "ledger/tenant_id.h"

namespace ledger {

bool IsValidTenantId(std::string_view id) {
  if (id.empty() || id.size() > kMaxTenantId) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id[0])) return false;
  for (char c : id) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace ledger
