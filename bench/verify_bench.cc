// verify_bench: entries per second of VerifyTree on a cached store (PRODUCT §7, the `verify` row),
// to be compared with the SHA-256 bound of the same CPU (bench/run.sh computes it).
//
//   verify_bench --dir D --entries N [--callers 64] [--reuse] [--runs 3]
//
// Builds D/store with N ~175-byte entries through Log::Append (background publisher on, many
// callers so that commits batch), unless --reuse finds a store there already. Then runs VerifyTree
// `runs` times (at least 2): the first warms the page cache; the fastest of the others (cached) is
// reported, since on a shared machine other processes can only slow a run down. Peak RSS (VmHWM)
// is reset before verifying, so it is the verifier's own.
#include <atomic>
#include <thread>

#include "bench/bench_common.h"
#include "ledger/checkpoint.h"
#include "ledger/verifier.h"

namespace {

constexpr char kUsage[] =
    "usage: verify_bench --dir D --entries N [--callers 64] [--reuse] [--runs 3]";

void Build(const std::string& dir, uint64_t entries, uint64_t callers) {
  bench::BenchStore store;
  bench::OpenBenchStore(dir, /*create=*/true, &store);
  std::unique_ptr<ledger::Log> log;
  bench::Check(ledger::Log::Open(store.storage.get(), store.signer, {}, &log), "Log::Open");
  const auto start = bench::Clock::now();
  std::vector<std::thread> threads;
  for (uint64_t c = 0; c < callers; ++c) {
    const uint64_t count = entries / callers + (c < entries % callers ? 1 : 0);
    threads.emplace_back([&, c, count] {
      bench::Rng rng(c + 1);
      for (uint64_t i = 0; i < count; ++i) {
        uint64_t index;
        bench::Check(log->Append(bench::SyntheticEntry(&rng, c, i), &index), "Append");
      }
    });
  }
  for (auto& t : threads) t.join();
  const double append_s = bench::SecondsSince(start);
  log.reset();
  const double total_s = bench::SecondsSince(start);
  std::printf("built %llu entries with %llu callers: appends %.2f s (%.0f /s), with close %.2f s\n",
              static_cast<unsigned long long>(entries), static_cast<unsigned long long>(callers),
              append_s, static_cast<double>(entries) / append_s, total_s);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags flags(argc, argv, {"dir", "entries", "callers", "runs"}, {"reuse"}, kUsage);
  if (!flags.Has("dir")) bench::Die(kUsage);
  const std::string dir = flags.Str("dir");
  const uint64_t entries = flags.U64("entries", 200000);
  const uint64_t callers = std::max<uint64_t>(1, flags.U64("callers", 64));
  const uint64_t runs = std::max<uint64_t>(2, flags.U64("runs", 3));

  if (flags.Has("reuse") && bench::PathExists(dir + "/store")) {
    std::printf("reusing %s/store\n", dir.c_str());
  } else {
    Build(dir, entries, callers);
  }

  bench::BenchStore store;
  bench::OpenBenchStore(dir, /*create=*/false, &store);
  ledger::VerifyOptions options;
  options.vkeys = {store.signer.Verifier().ToString()};

  bench::ResetPeakRss();
  const uint64_t rss_before = bench::ProcStatusKiB("VmRSS");
  ledger::VerifyReport report;
  double seconds = 0, first_s = 0;
  for (uint64_t r = 0; r < runs; ++r) {
    report = ledger::VerifyReport{};
    const auto start = bench::Clock::now();
    bench::Check(ledger::VerifyTree(*store.storage, options, &report), "VerifyTree");
    const double s = bench::SecondsSince(start);
    if (r == 0) first_s = s;
    if (r == 1 || s < seconds) seconds = s;
    std::printf(
        "verify run %llu: %llu entries, %llu tiles, %llu bundles, %llu files: %.3f s "
        "(%.0f entries/s)\n",
        static_cast<unsigned long long>(r + 1), static_cast<unsigned long long>(report.entries),
        static_cast<unsigned long long>(report.tiles_checked),
        static_cast<unsigned long long>(report.bundles_checked),
        static_cast<unsigned long long>(report.files_checked), s,
        static_cast<double>(report.entries) / s);
  }
  const uint64_t hwm = bench::ProcStatusKiB("VmHWM");
  const double rate = static_cast<double>(report.entries) / seconds;
  std::printf("verifier peak RSS %.1f MiB (%.1f MiB before verifying)\n",
              static_cast<double>(hwm) / 1024.0, static_cast<double>(rss_before) / 1024.0);
  std::printf("RESULT entries=%llu seconds=%.4f rate=%.1f first_s=%.4f hwm_kib=%llu\n",
              static_cast<unsigned long long>(report.entries), seconds, rate, first_s,
              static_cast<unsigned long long>(hwm));
  return 0;
}
