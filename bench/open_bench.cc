// open_bench: how long a store takes to become ready (OpenPosixStorage + Log::Open: lock, read and
// verify the checkpoint, load the right edge of the tiles, replay the commit log) and the memory
// that costs (PRODUCT §7, growth row: "mount ready ≤ 1 s", "RSS ≤ 64 MiB").
//
//   open_bench --dir D [--runs 3]
//
// D is a bench directory (D/store, D/signer.key) as append_bench and verify_bench make. Each run
// opens and closes the log; the first run may read from disk, later ones from the page cache.
// Reports the first and the fastest run, and the process's peak RSS.
#include <algorithm>

#include "bench/bench_common.h"

int main(int argc, char** argv) {
  bench::Flags flags(argc, argv, {"dir", "runs"}, {}, "usage: open_bench --dir D [--runs 3]");
  if (!flags.Has("dir")) bench::Die("usage: open_bench --dir D [--runs 3]");
  const std::string dir = flags.Str("dir");
  const uint64_t runs = std::max<uint64_t>(1, flags.U64("runs", 3));

  double first = 0, best = 1e9;
  uint64_t size = 0;
  for (uint64_t r = 0; r < runs; ++r) {
    const auto start = bench::Clock::now();
    bench::BenchStore store;
    bench::OpenBenchStore(dir, /*create=*/false, &store);
    std::unique_ptr<ledger::Log> log;
    bench::Check(ledger::Log::Open(store.storage.get(), store.signer, {}, &log), "Log::Open");
    const double s = bench::SecondsSince(start);
    size = log->committed_size();
    log.reset();
    if (r == 0) first = s;
    best = std::min(best, s);
    std::printf("open run %llu: %llu entries, %.4f s\n", static_cast<unsigned long long>(r + 1),
                static_cast<unsigned long long>(size), s);
  }
  const uint64_t hwm = bench::ProcStatusKiB("VmHWM");
  std::printf("peak RSS %.1f MiB\n", static_cast<double>(hwm) / 1024.0);
  std::printf("RESULT entries=%llu first_s=%.4f best_s=%.4f hwm_kib=%llu\n",
              static_cast<unsigned long long>(size), first, best,
              static_cast<unsigned long long>(hwm));
  return 0;
}
