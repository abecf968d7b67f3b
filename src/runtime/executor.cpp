#include "runtime/executor.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/errors.h"

namespace ppb {

namespace {

// The rank of the cross-rank consumer of op's output, or -1 when there is none
// (last stage's F feeds its own B; stage 0's B and every W feed nobody).
int consumer_rank(const Schedule& schedule, const Op& op, int rank) {
  int consumer = -1;
  if (op.kind == OpKind::F && op.stage + 1 < schedule.num_stages()) consumer = schedule.rank_of(op.stage + 1);
  if (op.kind == OpKind::B && op.stage > 0) consumer = schedule.rank_of(op.stage - 1);
  return consumer == rank ? -1 : consumer;
}

// Hang and crash, at an op or in set-up: `where` is "at F1@s2 in iteration 0"
// or "in set-up".
void trigger_fault(const FaultSpec& fault, int rank, const std::string& where) {
  if (fault.action == FaultAction::Crash) {
    std::fprintf(stderr, "ppbench: rank %d crashed %s (injected fault %s)\n", rank, where.c_str(), fault.text.c_str());
    std::fflush(stderr);
    std::_Exit(kExitRunFailed);  // no MPI_Finalize: the launcher sees a rank die
  }
  if (fault.action == FaultAction::Hang) {
    while (true) std::this_thread::sleep_for(std::chrono::seconds(1));  // the watchdog ends it
  }
}

}  // namespace

RankPlan make_rank_plan(const Schedule& schedule, int rank, std::uint64_t activation_bytes) {
  RankPlan plan;
  plan.rank = rank;
  plan.schedule = &schedule;
  plan.activation_bytes = activation_bytes;
  for (const Op& op : schedule.ops[static_cast<std::size_t>(rank)]) {
    Op producers[2];
    const int n = producers_of(schedule, op, producers);
    for (int i = 0; i < n; ++i) {
      const int src = schedule.rank_of(producers[i].stage);
      if (src != rank) plan.receives.push_back(Transfer{producers[i], src, rank, activation_bytes});
    }
    const int dst = consumer_rank(schedule, op, rank);
    if (dst >= 0) plan.sends.push_back(Transfer{op, rank, dst, activation_bytes});
  }
  return plan;
}

Executor::Executor(const Schedule& schedule, int rank, const CostModel& targets, std::uint64_t activation_bytes,
                   Backend& backend, std::vector<FaultSpec> faults)
    : schedule_(schedule),
      rank_(rank),
      targets_(targets),
      backend_(backend),
      faults_(std::move(faults)),
      plan_(make_rank_plan(schedule, rank, activation_bytes)) {
  ops_ = schedule.ops[static_cast<std::size_t>(rank)];
  if (targets_.optimizer_us > 0) ops_.push_back(Op{OpKind::Optimizer, -1, -1});
  // Receives and sends were listed in op order, so a running index maps them.
  std::size_t next_receive = 0, next_send = 0;
  for (const Op& op : ops_) {
    target_us_.push_back(targets_.op_us(op) * slow_factor(faults_, rank_, op));
    std::vector<int> receives, sends;
    if (op.kind != OpKind::Optimizer) {
      Op producers[2];
      const int n = producers_of(schedule, op, producers);
      for (int i = 0; i < n; ++i) {
        if (schedule.rank_of(producers[i].stage) != rank_) receives.push_back(static_cast<int>(next_receive++));
      }
      if (consumer_rank(schedule, op, rank_) >= 0) sends.push_back(static_cast<int>(next_send++));
    }
    receives_of_.push_back(std::move(receives));
    sends_of_.push_back(std::move(sends));
  }
  PPB_ASSERT(next_receive == plan_.receives.size() && next_send == plan_.sends.size(), "rank plan out of step");
}

void Executor::prepare() {
  if (const FaultSpec* fault = setup_fault(faults_, rank_)) trigger_fault(*fault, rank_, "in set-up");
  backend_.prepare(plan_);
}

const RankIterationRecord& Executor::run_iteration(int iteration) {
  completed_ = -1;
  position_ = -1;
  phase_ = kIdle;
  iteration_ = iteration;
  backend_.begin_iteration(iteration);
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    position_ = static_cast<int>(i);
    for (int r : receives_of_[i]) {
      waiting_for_ = r;
      phase_ = kWaitingInput;
      backend_.wait_input(plan_.receives[static_cast<std::size_t>(r)]);
    }
    for (const FaultSpec& fault : faults_) {
      if (!fault_hits(fault, rank_, op) || fault.action == FaultAction::Slow) continue;
      phase_ = kComputing;
      trigger_fault(fault, rank_, "at " + describe(op) + " in iteration " + std::to_string(iteration));
    }
    phase_ = kComputing;
    backend_.compute(op, target_us_[i]);
    phase_ = kSending;
    for (int s : sends_of_[i]) backend_.send_output(plan_.sends[static_cast<std::size_t>(s)]);
    completed_ = static_cast<int>(i);
  }
  phase_ = kEnding;
  const RankIterationRecord& record = backend_.end_iteration();
  phase_ = kIdle;
  return record;
}

std::string Executor::describe_progress() const {
  const int done = completed_.load();
  const int pos = position_.load();
  std::string text = done >= 0 ? "after " + describe(ops_[static_cast<std::size_t>(done)]) : "before its first op";
  switch (phase_.load()) {
    case kWaitingInput: {
      const Transfer& t = plan_.receives[static_cast<std::size_t>(waiting_for_.load())];
      text += "; waiting for " + describe(t.producer) + " from rank " + std::to_string(t.src_rank);
      break;
    }
    case kComputing:
    case kSending:
      text += "; in " + describe(ops_[static_cast<std::size_t>(pos)]);
      break;
    case kEnding:
      text += "; waiting for its outstanding transfers to complete";
      break;
    default:
      text += "; waiting for the other ranks (iteration barrier or gather)";
  }
  return text;
}

}  // namespace ppb
