#include "runtime/fault_spec.h"

#include <cmath>
#include <cstdlib>

#include "core/errors.h"

namespace ppb {

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string::size_type begin = 0;
  while (true) {
    const auto end = text.find(sep, begin);
    parts.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) return parts;
    begin = end + 1;
  }
}

bool parse_int(const std::string& s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  out = std::atoi(s.c_str());
  return true;
}

}  // namespace

FaultSpec parse_fault_spec(const std::string& text, const Schedule& schedule) {
  const std::string where = "--inject-fault: '" + text + "': ";
  const std::vector<std::string> parts = split(text, ':');
  PPB_REQUIRE_INPUT(parts.size() == 3, where, "expected RANK:OP:ACTION (e.g. 1:F3@s1:hang, 2:*:slow=2, 1:setup:hang)");
  FaultSpec f;
  f.text = text;
  PPB_REQUIRE_INPUT(parse_int(parts[0], f.rank) && f.rank < schedule.num_ranks, where, "rank must be 0..",
                    schedule.num_ranks - 1);

  const std::string& action = parts[2];
  if (action == "hang") {
    f.action = FaultAction::Hang;
  } else if (action == "crash") {
    f.action = FaultAction::Crash;
  } else if (action.rfind("slow=", 0) == 0) {
    f.action = FaultAction::Slow;
    char* end = nullptr;
    f.factor = std::strtod(action.c_str() + 5, &end);
    PPB_REQUIRE_INPUT(action.size() > 5 && end != nullptr && *end == '\0' && std::isfinite(f.factor) && f.factor > 0,
                      where, "slow=X needs a positive number X");
  } else {
    PPB_THROW(InputError, where, "unknown action '", action, "' (expected hang, crash or slow=X)");
  }

  const std::string& op = parts[1];
  if (op == "*") {
    PPB_REQUIRE_INPUT(f.action == FaultAction::Slow, where, "'*' (every op) is only for slow=X");
    f.every_op = true;
    return f;
  }
  if (op == "setup") {
    PPB_REQUIRE_INPUT(f.action != FaultAction::Slow, where, "setup takes hang or crash, not slow=X");
    f.at_setup = true;
    return f;
  }
  PPB_REQUIRE_INPUT(op.size() >= 2 && (op[0] == 'F' || op[0] == 'B' || op[0] == 'W'), where,
                    "OP must be like F3@s1, F3, * or setup");
  f.op.kind = op[0] == 'F' ? OpKind::F : op[0] == 'B' ? OpKind::B : OpKind::W;
  const auto at = op.find("@s");
  const std::string microbatch = op.substr(1, at == std::string::npos ? std::string::npos : at - 1);
  PPB_REQUIRE_INPUT(parse_int(microbatch, f.op.microbatch) && f.op.microbatch < schedule.num_microbatches, where,
                    "microbatch must be 0..", schedule.num_microbatches - 1);
  std::vector<int> stages;
  for (int s = 0; s < schedule.num_stages(); ++s) {
    if (schedule.rank_of(s) == f.rank) stages.push_back(s);
  }
  if (at == std::string::npos) {
    PPB_REQUIRE_INPUT(stages.size() == 1, where, "rank ", f.rank, " holds ", stages.size(),
                      " stages: name one as ", op, "@s<stage>");
    f.op.stage = stages[0];
  } else {
    PPB_REQUIRE_INPUT(parse_int(op.substr(at + 2), f.op.stage), where, "OP must be like F3@s1, F3, * or setup");
    PPB_REQUIRE_INPUT(f.op.stage < schedule.num_stages() && schedule.rank_of(f.op.stage) == f.rank, where, "stage ",
                      f.op.stage, " is not on rank ", f.rank);
  }
  PPB_REQUIRE_INPUT(f.op.kind != OpKind::W || schedule.split_backward, where, "the ", schedule.name,
                    " schedule has no W ops");
  return f;
}

bool fault_hits(const FaultSpec& fault, int rank, const Op& op) {
  if (fault.rank != rank || fault.at_setup) return false;
  return fault.every_op || fault.op == op;
}

const FaultSpec* setup_fault(const std::vector<FaultSpec>& faults, int rank) {
  for (const FaultSpec& f : faults) {
    if (f.at_setup && f.rank == rank) return &f;
  }
  return nullptr;
}

double slow_factor(const std::vector<FaultSpec>& faults, int rank, const Op& op) {
  double factor = 1.0;
  for (const FaultSpec& f : faults) {
    if (f.action == FaultAction::Slow && fault_hits(f, rank, op)) factor *= f.factor;
  }
  return factor;
}

CostModel apply_slowdown(CostModel model, const std::vector<FaultSpec>& faults, const Schedule& schedule) {
  for (const FaultSpec& f : faults) {
    if (f.action != FaultAction::Slow || !f.every_op) continue;
    for (int s = 0; s < schedule.num_stages(); ++s) {
      if (schedule.rank_of(s) != f.rank) continue;
      const auto i = static_cast<std::size_t>(s);
      model.forward_us[i] *= f.factor;
      model.backward_us[i] *= f.factor;
      model.weight_us[i] *= f.factor;
    }
  }
  return model;
}

}  // namespace ppb
