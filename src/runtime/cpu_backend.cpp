#include "runtime/cpu_backend.h"

#include <mpi.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <limits>
#include <map>
#include <thread>
#include <tuple>

#include "core/errors.h"
#include "runtime/mpi_check.h"
#include "runtime/message_tag.h"

namespace ppb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double steady_now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void sleep_us(double us) {
  if (us > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::micro>(us));
}

std::tuple<int, int, int> key(const Op& op) { return {int(op.kind), op.stage, op.microbatch}; }

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const CpuBackendOptions& options) : options_(options) {
    // Sleeps end when asked instead of up to 50 us later (the default slack).
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
  }
  ~CpuBackend() override { MPI_Comm_free(&comm_); }

  std::string name() const override { return "cpu"; }

  nlohmann::json context() const override {
    timespec resolution{};
    ::clock_getres(CLOCK_MONOTONIC, &resolution);
    return {{"device", "cpu"},
            {"compute", "sleep, then spin the last spin_us to the deadline"},
            {"spin_us", options_.spin_us},
            {"sleep_slice_us", options_.sleep_slice_us},
            {"wait", "MPI_Testsome and sched_yield in a loop"},
            {"timer", "std::chrono::steady_clock (CLOCK_MONOTONIC)"},
            {"timer_resolution_us", resolution.tv_sec * 1e6 + resolution.tv_nsec / 1e3},
            {"transport", "MPI_Isend/MPI_Irecv, all receives pre-posted per iteration"}};
  }

  void prepare(const RankPlan& plan) override {
    plan_ = plan;
    const int stages = plan.schedule->num_stages();
    void* value = nullptr;
    int found = 0;
    MPI_Comm_get_attr(comm_, MPI_TAG_UB, &value, &found);
    const long long tag_ub = found ? *static_cast<int*>(value) : 32767;
    PPB_REQUIRE_INPUT(max_message_tag(stages, plan.schedule->num_microbatches) <= tag_ub,
                      "--num-batches: ", plan.schedule->num_microbatches, " microbatches on ", stages,
                      " stages need more message tags than this MPI allows (MPI_TAG_UB = ", tag_ub, ")");
    PPB_REQUIRE_INPUT(plan.activation_bytes <= static_cast<std::uint64_t>(INT_MAX), "--activation-bytes: at most ",
                      INT_MAX, " bytes per message on the CPU backend (got ", plan.activation_bytes, ")");
    const auto bytes = static_cast<std::size_t>(plan.activation_bytes);
    receive_buffers_.assign(plan.receives.size(), std::vector<char>(bytes));
    // MPI-3 allows concurrent sends from one buffer: the content is never read.
    send_buffer_.assign(bytes, 1);
    receive_index_.clear();
    send_index_.clear();
    for (std::size_t i = 0; i < plan.receives.size(); ++i) receive_index_[key(plan.receives[i].producer)] = i;
    for (std::size_t i = 0; i < plan.sends.size(); ++i) send_index_[key(plan.sends[i].producer)] = i;
    requests_.assign(plan.receives.size() + plan.sends.size(), MPI_REQUEST_NULL);
    completed_.resize(requests_.size());
  }

  void begin_iteration(int) override {
    clear_record(record_);
    arrive_us_.assign(plan_.receives.size(), kNaN);
    wait_start_us_.assign(plan_.receives.size(), kNaN);
    const int stages = plan_.schedule->num_stages();
    for (std::size_t i = 0; i < plan_.receives.size(); ++i) {
      const Transfer& t = plan_.receives[i];
      check_mpi(MPI_Irecv(receive_buffers_[i].data(), static_cast<int>(t.bytes), MPI_BYTE, t.src_rank,
                      static_cast<int>(message_tag(t.producer, stages)), comm_, &requests_[i]),
            "MPI_Irecv");
    }
    outstanding_ = static_cast<int>(plan_.receives.size());
    const std::uint64_t held = plan_.activation_bytes * (plan_.receives.size() + (plan_.sends.empty() ? 0 : 1));
    record_.peak_buffer_bytes = held;  // every receive buffer is posted at once
  }

  void wait_input(const Transfer& t) override {
    const std::size_t i = receive_index_.at(key(t.producer));
    // Already seen (by a poll during an earlier compute): no poll now. With
    // more ranks than cores an idle poll yields the core (Open MPI's
    // yield_when_idle), which would only delay the op.
    if (!std::isnan(arrive_us_[i])) return;
    progress(Collect::Yes);
    if (!std::isnan(arrive_us_[i])) return;
    wait_start_us_[i] = now_us();
    while (std::isnan(arrive_us_[i])) {
      ::sched_yield();
      progress(Collect::Yes);  // the stamp times the transfer: no yield between arrival and stamp
    }
  }

  void compute(const Op& op, double target_us) override {
    const double start = now_us();
    const double deadline = start + target_us;
    while (true) {
      // Collect when a sleep follows (the next poll is a slice away), not
      // when the spin does: its polls collect, and the poll right before the
      // spin should yield the core at most once, or the op overshoots more.
      const bool sleep_follows = deadline - options_.spin_us - now_us() > 0;
      progress(sleep_follows ? Collect::Yes : Collect::No);
      const double sleep_left = deadline - options_.spin_us - now_us();
      if (sleep_left <= 0) break;
      sleep_us(std::min(sleep_left, options_.sleep_slice_us));
    }
    // Back-to-back polls: each collects what the previous one's engine run
    // completed, and a poll that yields twice would overshoot the deadline more.
    while (now_us() < deadline) progress(Collect::No);
    record_.ops.push_back(OpRecord{op, start, now_us()});
  }

  void send_output(const Transfer& t) override {
    const std::size_t i = send_index_.at(key(t.producer));
    const double send = now_us();
    check_mpi(MPI_Isend(send_buffer_.data(), static_cast<int>(t.bytes), MPI_BYTE, t.dst_rank,
                    static_cast<int>(message_tag(t.producer, plan_.schedule->num_stages())), comm_,
                    &requests_[plan_.receives.size() + i]),
          "MPI_Isend");
    ++outstanding_;
    record_.sent.push_back(TransferRecord{t.producer, t.src_rank, t.dst_rank, send, kNaN, t.bytes});
  }

  const RankIterationRecord& end_iteration() override {
    // Only sends are left (every receive was waited for): no stamps to collect.
    progress(Collect::No);
    while (outstanding_ > 0) {
      ::sched_yield();
      progress(Collect::No);
    }
    for (std::size_t i = 0; i < plan_.receives.size(); ++i) {
      const Transfer& t = plan_.receives[i];
      TransferRecord x{t.producer, t.src_rank, t.dst_rank, kNaN, arrive_us_[i], t.bytes};
      x.wait_start_us = wait_start_us_[i];
      record_.received.push_back(x);
    }
    return record_;
  }

  double now_us() const override { return steady_now_us(); }

 private:
  // One poll: completes whatever is done; a receive's arrival is stamped here.
  // MPI_Testsome (Open MPI's test_some) either reports the requests already
  // complete, or, when there are none, runs the progress engine once and
  // reports nothing: what that run completes shows up at the next call. With
  // one call per poll every arrival was stamped one poll late, a whole sleep
  // slice during a compute. Collect::Yes calls it a second time after a call
  // that ran the engine, so the poll reports what it completed; no more than
  // that, because with more ranks than cores Open MPI yields the core in an
  // idle engine run (yield_when_idle), and a yield after a stamp delays the op
  // that needed the data (looping until a call found nothing put 10-40 us
  // between arrival and op start at -np 4). Collect::No (back-to-back polls,
  // where the next call collects) makes the one call.
  enum class Collect { No, Yes };
  void progress(Collect collect) {
    if (test_some() == 0 && collect == Collect::Yes) test_some();
  }

  // One MPI_Testsome over every request; stamps the receives it reports.
  // Returns the number reported: 0 means it ran the progress engine (or
  // nothing is outstanding).
  int test_some() {
    if (outstanding_ == 0) return 0;
    int count = 0;
    check_mpi(MPI_Testsome(static_cast<int>(requests_.size()), requests_.data(), &count, completed_.data(),
                           MPI_STATUSES_IGNORE),
              "MPI_Testsome");
    if (count == MPI_UNDEFINED || count == 0) return 0;
    const double now = now_us();
    for (int k = 0; k < count; ++k) {
      const auto slot = static_cast<std::size_t>(completed_[static_cast<std::size_t>(k)]);
      if (slot < arrive_us_.size()) arrive_us_[slot] = now;
    }
    outstanding_ -= count;
    return count;
  }

  CpuBackendOptions options_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  RankPlan plan_;
  std::vector<std::vector<char>> receive_buffers_;
  std::vector<char> send_buffer_;
  std::map<std::tuple<int, int, int>, std::size_t> receive_index_, send_index_;
  std::vector<MPI_Request> requests_;  // receives, then sends (by plan index)
  std::vector<int> completed_;         // MPI_Testsome's output
  int outstanding_ = 0;
  std::vector<double> arrive_us_, wait_start_us_;
  RankIterationRecord record_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& options) {
  return std::make_unique<CpuBackend>(options);
}

}  // namespace ppb
