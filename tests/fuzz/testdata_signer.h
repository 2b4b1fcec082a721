// The signing key of the spec vectors (spec/testdata/tessera-log), which signed the checkpoint
// seeds: a test key, public on purpose. Shared by the targets that sign or open checkpoints.
#pragma once

#include <string_view>

#include "ledger/note.h"
#include "tests/fuzz/fuzz_check.h"

namespace fuzz {

inline constexpr std::string_view kTestdataSkey =
    "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";

// Parsed once per process.
inline const ledger::NoteSigner& TestdataSigner() {
  static const ledger::NoteSigner signer = [] {
    ledger::NoteSigner s;
    FUZZ_CHECK(ledger::NoteSigner::Parse(kTestdataSkey, &s).ok());
    return s;
  }();
  return signer;
}

}  // namespace fuzz
