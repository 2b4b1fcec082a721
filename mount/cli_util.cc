#include "mount/cli_util.h"

#include <iostream>

#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace ledgerfs {

namespace {

std::string_view TrimSlashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

// spdlog patterns give '%' a meaning; a store path is data.
std::string EscapePattern(std::string_view text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '%') out += '%';
  }
  return out;
}

}  // namespace

int ExitCodeFor(const ledger::Status& st) {
  using Code = ledger::Status::Code;
  switch (st.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kBusy:
      return kExitBusy;
    case Code::kIoError:
    case Code::kNoSpace:
      return kExitIo;
    default:
      return kExitFailed;
  }
}

int ReportError(std::string_view command, std::string_view path, const ledger::Status& st) {
  std::string_view reason = st.message();
  const std::string prefix = std::string(TrimSlashes(path)) + ": ";
  if (!path.empty() && reason.substr(0, prefix.size()) == prefix)
    reason.remove_prefix(prefix.size());
  if (reason.empty()) reason = "failed";
  std::cerr << "ledgerfs: " << command << (path.empty() ? "" : " ") << path << ": " << reason
            << std::endl;
  return ExitCodeFor(st);
}

int ReportUsage(std::string_view command, std::string_view path, std::string_view reason) {
  std::cerr << "ledgerfs: " << command << (path.empty() ? "" : " ") << path << ": " << reason
            << "\nRun 'ledgerfs " << command << " --help' for the options." << std::endl;
  return kExitUsage;
}

void Note(std::string_view command, std::string_view path, std::string_view message) {
  std::cerr << "ledgerfs: " << command << (path.empty() ? "" : " ") << path << ": " << message
            << std::endl;
}

void InitLogging() {
  auto logger = spdlog::stderr_logger_mt("ledgerfs");
  logger->set_pattern("ledgerfs: [%l] %v");
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::warn);
}

void SetLogStore(const std::string& path) {
  spdlog::default_logger()->set_pattern("ledgerfs [store " + EscapePattern(path) + "] %l: %v");
}

namespace {

// "%*" in a pattern: the sd-daemon(3) priority prefix of the message's level.
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr const char* kPrefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    const auto level = static_cast<size_t>(msg.level);
    const std::string_view p = kPrefix[level < 7 ? level : 6];
    dest.append(p.data(), p.data() + p.size());
  }
  std::unique_ptr<spdlog::custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriorityFlag>();
  }
};

}  // namespace

void SetLogTenant(const std::string& tenant, bool journald) {
  const std::string id = EscapePattern(tenant);
  if (!journald) {
    spdlog::default_logger()->set_pattern("ledgerfs [tenant " + id + "] %l: %v");
    return;
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<SyslogPriorityFlag>('*').set_pattern("%*[tenant " + id + "] %l: %v");
  spdlog::default_logger()->set_formatter(std::move(formatter));
}

}  // namespace ledgerfs
