// Fuzzes the record parsers (ledger/records.h, ledger/record_index.h): manifests read back from
// the log, the manifest's path escaping, the record path rules every access layer applies, and
// the manifest time. Properties:
//   - a manifest that parses formats back to the input, with a valid path and a canonical time;
//   - any valid path, put in a manifest, parses back to the same record;
//   - unescape then escape is the identity, escape then unescape too, and an escaped path is a
//     printable UTF-8 line;
//   - ValidateRecordPath, IsCanonicalTimestamp and ParseReceivedMs agree with references written
//     here differently (a component loop, glibc's calendar, a day count).
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ledger/note.h"
#include "ledger/record_index.h"
#include "ledger/records.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool SameRecord(const ledger::RecordInfo& a, const ledger::RecordInfo& b) {
  return a.kind == b.kind && a.path == b.path && a.size == b.size && a.sha256_hex == b.sha256_hex &&
         a.received == b.received;
}

// The path rules, component by component.
bool ReferenceValidPath(std::string_view p) {
  if (p.empty() || p.size() > ledger::kMaxRecordPath) return false;
  std::string component;
  for (size_t i = 0; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      if (component.empty() || component == "." || component == "..") return false;
      if (component.size() > ledger::kMaxRecordPathComponent) return false;
      component.clear();
    } else if (p[i] == '\0') {
      return false;
    } else {
      component.push_back(p[i]);
    }
  }
  return true;
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" with a real date: glibc must give back the same fields.
bool ReferenceCanonicalTime(std::string_view s, int f[7]) {
  constexpr std::string_view kSeparators = "--T::.Z";
  constexpr size_t kSeparatorAt[] = {4, 7, 10, 13, 16, 19, 23};
  if (s.size() != 24) return false;
  for (size_t i = 0, sep = 0; i < s.size(); ++i) {
    if (sep < 7 && i == kSeparatorAt[sep]) {
      if (s[i] != kSeparators[sep++]) return false;
    } else if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  const std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &f[0], &f[1], &f[2], &f[3], &f[4],
                  &f[5], &f[6]) != 7) {
    return false;
  }
  struct tm t {};
  t.tm_year = f[0] - 1900;
  t.tm_mon = f[1] - 1;
  t.tm_mday = f[2];
  t.tm_hour = f[3];
  t.tm_min = f[4];
  t.tm_sec = f[5];
  const time_t secs = timegm(&t);  // normalises: 02-30 becomes 03-02, 24:00 the next day
  struct tm back {};
  if (gmtime_r(&secs, &back) == nullptr) return false;
  return back.tm_year == f[0] - 1900 && back.tm_mon == f[1] - 1 && back.tm_mday == f[2] &&
         back.tm_hour == f[3] && back.tm_min == f[4] && back.tm_sec == f[5];
}

// Milliseconds since 1970 by counting days, year by year.
int64_t ReferenceMs(const int f[7]) {
  auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t days = 0;
  for (int y = 1970; y < f[0]; ++y) days += leap(y) ? 366 : 365;
  for (int y = f[0]; y < 1970; ++y) days -= leap(y) ? 366 : 365;
  for (int m = 1; m < f[1]; ++m) days += kMonthDays[m - 1] + (m == 2 && leap(f[0]) ? 1 : 0);
  days += f[2] - 1;
  return ((days * 24 + f[3]) * 60 + f[4]) * 60000 + f[5] * 1000 + f[6];
}

void CheckTime(std::string_view s) {
  int f[7];
  const bool canonical = ReferenceCanonicalTime(s, f);
  FUZZ_CHECK(ledger::IsCanonicalTimestamp(s) == canonical);
  const int64_t ms = ledger::ParseReceivedMs(s);
  if (canonical) {
    FUZZ_CHECK(ms == ReferenceMs(f));
  } else {
    FUZZ_CHECK(ms == 0);
  }
}

void CheckEscaping(std::string_view in) {
  std::string raw;
  if (ledger::UnescapeRecordPath(in, &raw).ok()) {
    FUZZ_CHECK(ledger::EscapeRecordPath(raw) == in);
  }
  const std::string escaped = ledger::EscapeRecordPath(in);
  std::string back;
  FUZZ_CHECK(ledger::UnescapeRecordPath(escaped, &back).ok());
  FUZZ_CHECK(back == in);
  // One manifest line: no space, no control byte, valid UTF-8.
  for (char c : escaped) FUZZ_CHECK(static_cast<uint8_t>(c) > 0x20 && c != 0x7F);
  FUZZ_CHECK(ledger::IsValidNoteText(escaped + "\n"));
}

void CheckManifest(std::string_view in) {
  ledger::RecordInfo info;
  if (!ledger::ParseManifest(in, &info).ok()) return;
  FUZZ_CHECK(ledger::FormatManifest(info) == in);
  FUZZ_CHECK(ledger::ValidateRecordPath(info.path).ok());
  FUZZ_CHECK(ledger::IsCanonicalTimestamp(info.received));
  if (info.kind == ledger::RecordInfo::Kind::kFile) {
    ledger::Hash h;
    FUZZ_CHECK(ledger::HashFromHex(info.sha256_hex, &h));
  } else {
    FUZZ_CHECK(info.size == 0 && info.sha256_hex.empty());
  }
  CheckTime(info.received);
}

// The input as a record path: valid exactly when the reference says so, and a valid one survives
// a manifest as either kind.
void CheckPath(std::string_view in) {
  const bool valid = ledger::ValidateRecordPath(in).ok();
  FUZZ_CHECK(valid == ReferenceValidPath(in));
  if (!valid) return;
  ledger::RecordInfo file;
  file.kind = ledger::RecordInfo::Kind::kFile;
  file.path = std::string(in);
  file.size = in.size();
  file.sha256_hex = std::string(64, 'a');
  file.received = "2026-11-25T21:54:35.123Z";
  ledger::RecordInfo dir;
  dir.kind = ledger::RecordInfo::Kind::kDirectory;
  dir.path = file.path;
  dir.received = file.received;
  for (const ledger::RecordInfo& want : {file, dir}) {
    ledger::RecordInfo got;
    FUZZ_CHECK(ledger::ParseManifest(ledger::FormatManifest(want), &got).ok());
    FUZZ_CHECK(SameRecord(want, got));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = fuzz::AsView(data, size);
  CheckManifest(in);
  CheckEscaping(in);
  CheckPath(in);
  CheckTime(in);
  CheckTime(in.substr(0, 24));
  return 0;
}
