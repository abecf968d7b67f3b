#include "double_faults.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <thread>

#include "double_config.h"

namespace ppb::cuda_double {

namespace {

long long parse_duration_ns(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return -1;
  const std::string unit = end;
  if (unit == "ns") return static_cast<long long>(v);
  if (unit == "us") return static_cast<long long>(v * 1e3);
  if (unit == "ms") return static_cast<long long>(v * 1e6);
  if (unit == "s") return static_cast<long long>(v * 1e9);
  return -1;
}

FaultRule parse_rule(const std::string& text, int& rank) {
  const auto bad = [&](const std::string& why) {
    config_error("PPB_CUDA_DOUBLE_FAULTS: '" + text + "': " + why);
  };
  const std::size_t c1 = text.find(':'), c2 = text.rfind(':');
  if (c1 == std::string::npos || c1 == c2) bad("expected RANK:WHAT:ACTION");
  const std::string who = text.substr(0, c1), what = text.substr(c1 + 1, c2 - c1 - 1), action = text.substr(c2 + 1);
  rank = who == "*" ? -1 : std::atoi(who.c_str());
  if (who != "*" && (who.empty() || who.find_first_not_of("0123456789") != std::string::npos)) bad("RANK: a rank or *");
  FaultRule rule;
  rule.text = text;
  const std::size_t ge = what.find(">=");
  if (ge == std::string::npos) bad("WHAT: kernel>=DURATION, send>=BYTES, recv>=BYTES or malloc>=BYTES");
  const std::string kind = what.substr(0, ge), amount = what.substr(ge + 2);
  long long value = -1;
  if (kind == "kernel") {
    rule.target = FaultTarget::Kernel;
    value = parse_duration_ns(amount);
  } else if (kind == "send" || kind == "recv" || kind == "malloc") {
    rule.target = kind == "send" ? FaultTarget::Send : kind == "recv" ? FaultTarget::Receive : FaultTarget::Malloc;
    value = parse_bytes(amount);
  } else {
    bad("WHAT: kernel, send, recv or malloc");
  }
  if (value < 0) bad("WHAT: a duration (5ms) after kernel>=, a byte count (64K) after the others");
  rule.at_least = static_cast<std::uint64_t>(value);
  if (action == "hang") {
    rule.action = FaultAction::Hang;
  } else if (action == "error") {
    rule.action = FaultAction::Error;
  } else if (action == "fault" && rule.target == FaultTarget::Kernel) {
    rule.action = FaultAction::Fault;
  } else if (action == "die" && rule.target != FaultTarget::Malloc) {
    rule.action = FaultAction::Die;
  } else if (action == "stall" && (rule.target == FaultTarget::Send || rule.target == FaultTarget::Receive)) {
    rule.action = FaultAction::Stall;
  } else {
    bad("ACTION: hang, error, fault (kernel), die or stall (send, recv)");
  }
  if (rule.target == FaultTarget::Malloc && rule.action != FaultAction::Error) bad("malloc takes error only");
  return rule;
}

struct Rules {
  std::mutex mutex;
  std::vector<FaultRule> rules;
  std::vector<bool> fired;
};

Rules& rules() {
  static Rules* r = [] {
    auto* made = new Rules;  // never destroyed: stream workers may use it during exit
    const char* text = std::getenv("PPB_CUDA_DOUBLE_FAULTS");
    if (text != nullptr) made->rules = parse_fault_rules(text, config().world_rank);
    made->fired.assign(made->rules.size(), false);
    return made;
  }();
  return *r;
}

}  // namespace

std::vector<FaultRule> parse_fault_rules(const std::string& text, int rank) {
  std::vector<FaultRule> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ';');) {
    if (item.empty()) continue;
    int who = -1;
    FaultRule rule = parse_rule(item, who);
    if (who < 0 || who == rank) out.push_back(rule);
  }
  return out;
}

FaultAction take_fault(FaultTarget target, std::uint64_t amount, std::string* rule_text) {
  Rules& r = rules();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (std::size_t i = 0; i < r.rules.size(); ++i) {
    if (r.fired[i] || r.rules[i].target != target || amount < r.rules[i].at_least) continue;
    r.fired[i] = true;
    if (rule_text != nullptr) *rule_text = r.rules[i].text;
    return r.rules[i].action;
  }
  return FaultAction::None;
}

void die_now(const std::string& where) {
  std::fprintf(stderr, "ppbench CUDA double: rank %d dies at %s (injected)\n", config().world_rank, where.c_str());
  std::fflush(stderr);
  ::kill(::getpid(), SIGKILL);
  std::_Exit(137);
}

void block_forever() {
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}

}  // namespace ppb::cuda_double
