// PosixStorage: Storage on a local directory with write-temp → fsync → rename → fsync-folder
// discipline. Every fsync failure is reported (kIoError naming the file); callers treat it as fatal.
#pragma once

#include <memory>
#include <string>

#include "ledger/storage.h"

namespace ledger {

// Opens (creating if `create`) the directory `root` as a store.
Status OpenPosixStorage(const std::string& root, bool create, std::unique_ptr<Storage>* out);

}  // namespace ledger
