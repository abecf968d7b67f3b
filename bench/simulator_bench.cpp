// Simulator throughput: 1F1B on P = 64 with growing M. Reports simulated ops per
// second (validate + simulate) and the timeline's bytes per op, so linear time
// and memory show as flat rates across M.
#include <benchmark/benchmark.h>

#include <malloc.h>

#include "core/schedule.h"
#include "schedules/generators.h"
#include "sim/simulator.h"

namespace {

// Heap bytes in use, counting large blocks that malloc maps directly.
std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

void BM_Simulate1F1B(benchmark::State& state) {
  const int ranks = 64;
  const int microbatches = static_cast<int>(state.range(0));
  const ppb::Schedule schedule = ppb::make_1f1b(ranks, microbatches);
  ppb::CostInputs inputs;
  inputs.forward_ms = {1.0, 1.1};
  inputs.forward_ms.resize(ranks, 1.05);
  inputs.p2p_time_ms = 0.05;
  const ppb::CostModel costs = ppb::make_cost_model(inputs, schedule);
  const bool cold = state.range(1) != 0;
  std::size_t heap_bytes = 0;
  ppb::Simulator simulator;
  ppb::Timeline reused;
  if (!cold) simulator.run(schedule, costs, reused);  // fault the buffers in once
  for (auto _ : state) {
    if (cold) {
      // A fresh process's first run: every buffer is new memory.
      const std::size_t before = heap_in_use();
      ppb::Timeline timeline = ppb::simulate(schedule, costs);
      heap_bytes = heap_in_use() - before;
      benchmark::DoNotOptimize(timeline.ranks.data());
    } else {
      simulator.run(schedule, costs, reused);
      benchmark::DoNotOptimize(reused.ranks.data());
    }
  }
  const double ops = static_cast<double>(schedule.total_ops());
  state.counters["ops"] = ops;
  state.counters["ops_per_s"] = benchmark::Counter(ops, benchmark::Counter::kIsIterationInvariantRate);
  if (cold) state.counters["timeline_bytes_per_op"] = static_cast<double>(heap_bytes) / ops;
}

void BM_Validate1F1B(benchmark::State& state) {
  const ppb::Schedule schedule = ppb::make_1f1b(64, static_cast<int>(state.range(0)));
  for (auto _ : state) ppb::validate(schedule);
  const double ops = static_cast<double>(schedule.total_ops());
  state.counters["ops_per_s"] = benchmark::Counter(ops, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

// Args: M, cold (1: new buffers every run; 0: a Simulator reusing its buffers).
BENCHMARK(BM_Simulate1F1B)
    ->ArgNames({"M", "cold"})
    ->ArgsProduct({{1024, 4096, 16384}, {0, 1}})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Validate1F1B)->Arg(1024)->Arg(4096)->Arg(16384)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
