// append_bench: durable appends per second through the ledger core API, against the physical
// floor of a native fsync loop on the same disk (PRODUCT §7, the `cp` and `append` rows).
//
//   append_bench --dir D --callers C --records N [--size 4096] [--mode core|native]
//                [--entries-only] [--reuse] [--checkpoint-delay-ms 1000]
//
//   native  C threads each write N/C new files of `size` random bytes into D/native/ with
//           open / write / fsync / close: one fsync per file, no folder fsync (the floor).
//   core    Log::Open on the store in D/store (a fresh one, or the existing one with --reuse),
//           background publisher on; C threads each commit N/C records of `size` random bytes
//           with Records::BeginFile -> Write -> Commit (content fsync + group-committed
//           commit-log fsync).
//   --entries-only  (core) appends ~175-byte manifest-shaped entries with Log::Append, no
//           content: the growth workload, and the fast way to grow a store (many callers).
//
// The rate counts from the first append to the last acknowledgement (every record durable); the
// close (final publication) is timed separately. The last line is a machine-readable summary.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "bench/bench_common.h"
#include "ledger/checkpoint.h"
#include "ledger/records.h"

namespace {

constexpr char kUsage[] =
    "usage: append_bench --dir D --callers C --records N [--size 4096] [--mode core|native]\n"
    "                    [--entries-only] [--reuse] [--checkpoint-delay-ms 1000]";

struct Totals {
  std::vector<double> latencies;  // seconds per append, all callers
};

double Percentile(std::vector<double>* v, double p) {
  if (v->empty()) return 0;
  const size_t k = std::min(v->size() - 1, static_cast<size_t>(p * static_cast<double>(v->size())));
  std::nth_element(v->begin(), v->begin() + static_cast<ptrdiff_t>(k), v->end());
  return (*v)[k];
}

// Runs `body(caller, count, latencies)` on `callers` threads released together; returns the
// seconds from release to the last thread's end.
template <typename Body>
double RunCallers(uint64_t callers, uint64_t records, Body body, Totals* totals) {
  std::atomic<bool> go{false};
  std::atomic<uint64_t> ready{0};
  std::vector<std::vector<double>> lat(callers);
  std::vector<std::thread> threads;
  for (uint64_t c = 0; c < callers; ++c) {
    const uint64_t count = records / callers + (c < records % callers ? 1 : 0);
    threads.emplace_back([&, c, count] {
      lat[c].reserve(count);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      body(c, count, &lat[c]);
    });
  }
  while (ready.load() < callers) std::this_thread::yield();
  const auto start = bench::Clock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  const double seconds = bench::SecondsSince(start);
  for (auto& l : lat) totals->latencies.insert(totals->latencies.end(), l.begin(), l.end());
  return seconds;
}

void WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) bench::Die("write " + path + ": " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Flags flags(argc, argv,
                     {"dir", "callers", "records", "size", "mode", "checkpoint-delay-ms"},
                     {"entries-only", "reuse"}, kUsage);
  if (!flags.Has("dir")) bench::Die(kUsage);
  const std::string dir = flags.Str("dir");
  const uint64_t callers = std::max<uint64_t>(1, flags.U64("callers", 1));
  const uint64_t records = flags.U64("records", 1000);
  const uint64_t size = flags.U64("size", 4096);
  const std::string mode = flags.Str("mode", "core");
  const bool entries_only = flags.Has("entries-only");
  const bool reuse = flags.Has("reuse");
  if (mode != "core" && mode != "native") bench::Die("--mode must be core or native");
  if (entries_only && mode != "core") bench::Die("--entries-only needs --mode core");
  const std::string workload = mode == "native" ? "native" : entries_only ? "entries" : "records";

  Totals totals;
  double seconds = 0, open_s = 0, close_s = 0;
  uint64_t start_size = 0, published = 0;
  double entry_bytes = static_cast<double>(size);

  if (mode == "native") {
    ::mkdir(dir.c_str(), 0755);
    const std::string out = dir + "/native/run-" + std::to_string(::getpid());
    ::mkdir((dir + "/native").c_str(), 0755);
    if (::mkdir(out.c_str(), 0755) != 0) bench::Die("mkdir " + out + ": " + std::strerror(errno));
    seconds = RunCallers(
        callers, records,
        [&](uint64_t c, uint64_t count, std::vector<double>* lat) {
          bench::Rng rng(c + 1);
          std::string data(size, '\0');
          for (uint64_t i = 0; i < count; ++i) {
            rng.Fill(&data);
            const std::string path =
                out + "/c" + std::to_string(c) + "-" + std::to_string(i) + ".dat";
            const auto t0 = bench::Clock::now();
            const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0) bench::Die("open " + path + ": " + std::strerror(errno));
            WriteAll(fd, data, path);
            if (::fsync(fd) != 0) bench::Die("fsync " + path + ": " + std::strerror(errno));
            if (::close(fd) != 0) bench::Die("close " + path + ": " + std::strerror(errno));
            lat->push_back(bench::SecondsSince(t0));
          }
        },
        &totals);
  } else {
    bench::BenchStore store;
    bench::OpenBenchStore(dir, /*create=*/!reuse, &store);
    ledger::LogOptions options;
    options.checkpoint_delay = std::chrono::milliseconds(flags.U64("checkpoint-delay-ms", 1000));
    std::unique_ptr<ledger::Log> log;
    const auto t_open = bench::Clock::now();
    bench::Check(ledger::Log::Open(store.storage.get(), store.signer, options, &log), "Log::Open");
    open_s = bench::SecondsSince(t_open);
    start_size = log->committed_size();
    ledger::Records recs(log.get(), store.storage.get());
    std::atomic<uint64_t> entry_total{0};
    const std::string run = std::to_string(::getpid());

    seconds = RunCallers(
        callers, records,
        [&](uint64_t c, uint64_t count, std::vector<double>* lat) {
          bench::Rng rng((start_size + 1) * 7919 + c);
          std::string data(size, '\0');
          uint64_t bytes = 0;
          for (uint64_t i = 0; i < count; ++i) {
            if (entries_only) {
              const std::string entry = bench::SyntheticEntry(&rng, c, start_size + i);
              bytes += entry.size();
              uint64_t index;
              const auto t0 = bench::Clock::now();
              bench::Check(log->Append(entry, &index), "Append");
              lat->push_back(bench::SecondsSince(t0));
            } else {
              rng.Fill(&data);
              const std::string path =
                  "bench/run-" + run + "/c" + std::to_string(c) + "/" + std::to_string(i) + ".dat";
              const auto t0 = bench::Clock::now();
              std::unique_ptr<ledger::RecordWriter> w;
              bench::Check(recs.BeginFile(path, &w), "BeginFile " + path);
              bench::Check(w->Write(data), "Write " + path);
              ledger::RecordInfo info;
              bench::Check(w->Commit(&info), "Commit " + path);
              lat->push_back(bench::SecondsSince(t0));
            }
          }
          entry_total.fetch_add(bytes);
        },
        &totals);
    if (entries_only && records > 0) {
      entry_bytes = static_cast<double>(entry_total.load()) / static_cast<double>(records);
    }
    bench::Check(log->health(), "log health");
    const uint64_t hwm_kib = bench::ProcStatusKiB("VmHWM");
    const auto t_close = bench::Clock::now();
    log.reset();
    close_s = bench::SecondsSince(t_close);
    std::string note;
    bench::Check(store.storage->Read(ledger::store_layout::kCheckpoint, &note), "read checkpoint");
    ledger::Checkpoint cp;
    bench::Check(ledger::OpenCheckpoint(note, store.signer.Verifier(), &cp), "open checkpoint");
    published = cp.size;
    if (published != start_size + records) {
      bench::Die("published size " + std::to_string(published) + " after close, expected " +
                 std::to_string(start_size + records));
    }
    std::printf("open %.3f s (store had %llu entries); close (final publish) %.3f s\n", open_s,
                static_cast<unsigned long long>(start_size), close_s);
    std::printf("published size after close: %llu\n", static_cast<unsigned long long>(published));
    std::printf("peak RSS while appending: %.1f MiB\n", static_cast<double>(hwm_kib) / 1024.0);
  }

  const double rate = seconds > 0 ? static_cast<double>(records) / seconds : 0;
  const double p50 = Percentile(&totals.latencies, 0.50) * 1e3;
  const double p99 = Percentile(&totals.latencies, 0.99) * 1e3;
  std::printf("%s: %llu x %.0f B, %llu callers: %.3f s, %.0f /s, latency p50 %.2f ms p99 %.2f ms\n",
              workload.c_str(), static_cast<unsigned long long>(records), entry_bytes,
              static_cast<unsigned long long>(callers), seconds, rate, p50, p99);
  std::printf(
      "RESULT workload=%s callers=%llu records=%llu bytes=%.0f seconds=%.4f rate=%.1f "
      "p50_ms=%.3f p99_ms=%.3f start_size=%llu published=%llu open_s=%.4f close_s=%.4f "
      "hwm_kib=%llu\n",
      workload.c_str(), static_cast<unsigned long long>(callers),
      static_cast<unsigned long long>(records), entry_bytes, seconds, rate, p50, p99,
      static_cast<unsigned long long>(start_size), static_cast<unsigned long long>(published),
      open_s, close_s, static_cast<unsigned long long>(bench::ProcStatusKiB("VmHWM")));
  return 0;
}
