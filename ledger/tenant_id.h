// Tenant identifiers: the name a tenant's mount (`-o tenant=`), its daemon's log lines and every
// HTTP request (`X-Module-ID`) use. One rule for all of them, so an ID accepted in one place is
// accepted everywhere.
#pragma once

#include <cstddef>
#include <string_view>

namespace ledger {

inline constexpr size_t kMaxTenantId = 64;

// 1-64 bytes of [A-Za-z0-9._-], starting with a letter or digit.
bool IsValidTenantId(std::string_view id);

}  // namespace ledger
