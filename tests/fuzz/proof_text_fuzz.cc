// Fuzzes the proof text parsers (ledger/proof_text.h): the C2SP tlog-proof inclusion proof and
// our consistency proof, which `ledgerfs verify --proof` and HTTP clients read. Properties: a
// proof that parses formats back to the input byte for byte (one spelling per proof) with at
// most 64 hashes and a non-empty checkpoint; and any proof built from the input's bytes formats
// to text that parses back to it.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/proof_text.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void CheckParse(std::string_view in) {
  ledger::InclusionProofText inc;
  if (ledger::ParseInclusionProof(in, &inc).ok()) {
    FUZZ_CHECK(ledger::FormatInclusionProof(inc) == in);
    FUZZ_CHECK(inc.proof.size() <= 64 && !inc.checkpoint.empty());
  }
  ledger::ConsistencyProofText con;
  if (ledger::ParseConsistencyProof(in, &con).ok()) {
    FUZZ_CHECK(ledger::FormatConsistencyProof(con) == in);
    FUZZ_CHECK(con.proof.size() <= 64 && !con.checkpoint.empty());
  }
}

std::vector<ledger::Hash> ConsumeHashes(FuzzedDataProvider* fdp) {
  std::vector<ledger::Hash> hashes(fdp->ConsumeIntegralInRange<size_t>(0, 64));
  for (ledger::Hash& h : hashes) {
    for (uint8_t& b : h) b = fdp->ConsumeIntegral<uint8_t>();
  }
  return hashes;
}

void CheckFormat(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  ledger::InclusionProofText inc;
  if (fdp.ConsumeBool()) inc.extra = fdp.ConsumeRandomLengthString(64);
  inc.index = fdp.ConsumeIntegral<uint64_t>();
  inc.proof = ConsumeHashes(&fdp);
  ledger::ConsistencyProofText con;
  con.old_size = fdp.ConsumeIntegral<uint64_t>();
  con.proof = ConsumeHashes(&fdp);
  // Whatever follows the blank line is the checkpoint, verbatim; it only has to be there.
  inc.checkpoint = con.checkpoint = "c" + fdp.ConsumeRemainingBytesAsString();

  ledger::InclusionProofText inc2;
  FUZZ_CHECK(ledger::ParseInclusionProof(ledger::FormatInclusionProof(inc), &inc2).ok());
  FUZZ_CHECK(inc2.extra == inc.extra && inc2.index == inc.index && inc2.proof == inc.proof &&
             inc2.checkpoint == inc.checkpoint);
  ledger::ConsistencyProofText con2;
  FUZZ_CHECK(ledger::ParseConsistencyProof(ledger::FormatConsistencyProof(con), &con2).ok());
  FUZZ_CHECK(con2.old_size == con.old_size && con2.proof == con.proof &&
             con2.checkpoint == con.checkpoint);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckParse(fuzz::AsView(data, size));
  CheckFormat(data, size);
  return 0;
}
