// A store of records for the RecordIndex and Records tests: a temporary folder in /dev/shm, a
// log opened without a background publisher (tests publish when they choose), and short ways to
// add records and read the log back.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/posix_storage.h"
#include "ledger/record_index.h"
#include "ledger/records.h"
#include "require_ok.h"
#include "temp_dir.h"

namespace ledger::testing {

struct RecordStore {
  TempDir dir{"/dev/shm"};
  std::unique_ptr<Storage> storage;
  NoteSigner signer;
  std::unique_ptr<Log> log;
  std::unique_ptr<Records> records;

  explicit RecordStore(const std::string& origin = "example.com/record-store-test") {
    REQUIRE_OK(OpenPosixStorage(dir.path(), true, &storage));
    REQUIRE_OK(NoteSigner::Generate(origin, &signer));
    REQUIRE_OK(Log::Create(storage.get(), signer));
    LogOptions opts;
    opts.background_publish = false;
    REQUIRE_OK(Log::Open(storage.get(), signer, opts, &log));
    records = std::make_unique<Records>(log.get(), storage.get());
  }
  ~RecordStore() {  // the records before the log before the storage they use
    records.reset();
    log.reset();
    storage.reset();
  }

  // A committed file record.
  RecordInfo File(const std::string& path, std::string_view content) {
    std::unique_ptr<RecordWriter> w;
    REQUIRE_OK(records->BeginFile(path, &w));
    REQUIRE_OK(w->Write(content));
    RecordInfo info;
    REQUIRE_OK(w->Commit(&info));
    return info;
  }
  // A committed folder record.
  RecordInfo Dir(const std::string& path) {
    RecordInfo info;
    REQUIRE_OK(records->AppendDirectory(path, &info));
    return info;
  }
  // An entry appended straight to the log, bypassing Records.
  uint64_t Raw(std::string_view entry) {
    uint64_t index = 0;
    REQUIRE_OK(log->Append(entry, &index));
    return index;
  }
  // Every entry of the log, in order.
  std::vector<std::string> Entries() {
    std::vector<std::string> out;
    uint64_t cursor = 0;
    for (;;) {
      std::vector<std::string> page;
      uint64_t next = 0;
      REQUIRE_OK(log->ReadSince(cursor, 1000, &page, &next));
      if (page.empty()) break;
      out.insert(out.end(), page.begin(), page.end());
      cursor = next;
    }
    return out;
  }
};

using RecordListing = std::vector<std::pair<std::string, RecordIndex::Entry>>;

// The names of a listing, in its order.
inline std::vector<std::string> Names(const RecordListing& listing) {
  std::vector<std::string> names;
  for (const auto& [name, e] : listing) names.push_back(name);
  return names;
}

// The outcome of a race in which each thread reserved one shared name (`shared`, the id it got in
// `ids`) and one name of its own (`own`): exactly one thread may win the shared name, the others
// must get AlreadyExists, and every own reservation must succeed. Returns the winner's id; the
// test fails unless there is exactly one.
inline RecordIndex::NodeId RaceWinner(const std::vector<Status>& shared,
                                      const std::vector<RecordIndex::NodeId>& ids,
                                      const std::vector<Status>& own) {
  int winners = 0;
  RecordIndex::NodeId winner = 0;
  for (size_t t = 0; t < shared.size(); ++t) {
    if (shared[t].ok()) {
      ++winners;
      winner = ids[t];
    } else {
      CHECK(shared[t].code() == Status::Code::kAlreadyExists);
    }
    CHECK(own[t].ok());
  }
  REQUIRE(winners == 1);
  return winner;
}

}  // namespace ledger::testing
