// The executor's own cost per op: one rank of 1F1B (P = 8, the middle rank,
// which both receives and sends) driven through a backend that does no work
// but timestamps every call as a real backend does. What this measures is the
// bookkeeping ppbench adds to every op on top of the backend (docs/runtime.md
// gives the end-to-end harness overhead of real runs).
//
// Backends reuse their record from iteration to iteration (Backend::
// end_iteration returns a reference). When they handed it over by value, the
// per-op figure rose from ~175 ns to ~420 ns from M = 1024 on the reference
// VM: the record buffers passed glibc's mmap threshold, so every iteration
// mapped fresh pages and faulted them in while the ops ran.
#include <benchmark/benchmark.h>

#include <chrono>

#include "runtime/executor.h"
#include "schedules/generators.h"

namespace {

// Records ops and transfers with steady_clock timestamps, like the CPU
// backend, and does nothing else.
class TimestampOnlyBackend final : public ppb::Backend {
 public:
  std::string name() const override { return "timestamp-only"; }
  nlohmann::json context() const override { return {}; }
  void prepare(const ppb::RankPlan& plan) override { plan_ = plan; }
  void begin_iteration(int) override {
    // The record is reused as the real backends reuse theirs: after the first
    // iteration nothing is allocated.
    ppb::clear_record(record_);
  }
  void wait_input(const ppb::Transfer& t) override {
    record_.received.push_back({t.producer, t.src_rank, t.dst_rank, 0, now_us(), t.bytes});
  }
  void compute(const ppb::Op& op, double) override {
    const double start = now_us();
    record_.ops.push_back({op, start, now_us()});
  }
  void send_output(const ppb::Transfer& t) override {
    record_.sent.push_back({t.producer, t.src_rank, t.dst_rank, now_us(), 0, t.bytes});
  }
  const ppb::RankIterationRecord& end_iteration() override { return record_; }
  double now_us() const override {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

 private:
  ppb::RankPlan plan_;
  ppb::RankIterationRecord record_;
};

void BM_ExecutorIteration(benchmark::State& state) {
  const int microbatches = static_cast<int>(state.range(0));
  const ppb::Schedule schedule = ppb::make_1f1b(8, microbatches);
  ppb::CostInputs inputs;
  const ppb::CostModel costs = ppb::make_cost_model(inputs, schedule);
  TimestampOnlyBackend backend;
  const int rank = 3;
  ppb::Executor executor(schedule, rank, costs, 65536, backend);
  executor.prepare();
  int iteration = 0;
  for (auto _ : state) {
    const ppb::RankIterationRecord& record = executor.run_iteration(iteration++);
    benchmark::DoNotOptimize(record.ops.data());
  }
  const double ops = static_cast<double>(executor.ops().size());
  state.counters["ops"] = ops;
  // Seconds per op, printed with an SI prefix (182n = 182 ns).
  state.counters["per_op"] =
      benchmark::Counter(ops, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(BM_ExecutorIteration)->Arg(8)->Arg(64)->Arg(256)->Arg(1024)->Arg(4096)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
