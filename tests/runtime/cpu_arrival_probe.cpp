// Runs under `mpirun -np 2` for cpu_arrival_mpi_test: a two-stage GPipe with
// two microbatches on the CPU backend, where stage 1's F takes long (argv[3]
// ms) and stage 0's F is short (5 ms). Stage 0's second activation therefore
// reaches rank 1 while it computes F0@s1. Rank 0 prints one JSON object: the
// activation's send time (rank 0), its arrival and wait start (rank 1), and
// the start and end of F0@s1 (rank 1), all on CLOCK_MONOTONIC (one host).
// Arguments: message bytes, sleep slice us, F of stage 1 in ms.
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/mpi_world.h"
#include "schedules/generators.h"
#include "sim/cost_model.h"

int main(int argc, char** argv) {
  using namespace ppb;
  MpiWorld world(&argc, &argv);
  if (argc != 4 || world.size() != 2) {
    if (world.rank() == 0) std::fprintf(stderr, "usage: mpirun -np 2 cpu_arrival_probe BYTES SLICE_US STAGE1_F_MS\n");
    return 2;
  }
  const auto bytes = std::strtoull(argv[1], nullptr, 10);
  CpuBackendOptions options;
  options.sleep_slice_us = std::atof(argv[2]);
  const Schedule schedule = make_gpipe(2, 2);
  CostInputs in;
  in.forward_ms = {5, std::atof(argv[3])};
  in.backward_ms = {1, 1};
  const CostModel targets = make_cost_model(in, schedule);
  auto backend = make_cpu_backend(options);
  Executor executor(schedule, world.rank(), targets, bytes, *backend);
  executor.prepare();

  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const Op activation{OpKind::F, 0, 1};  // F1@s0, sent while rank 1 runs F0@s1
  const Op long_op{OpKind::F, 1, 0};
  double mine[5] = {kNaN, kNaN, kNaN, kNaN, kNaN};  // send, arrive, wait_start, start, end
  for (int iteration = 0; iteration < 2; ++iteration) {  // the first one warms up
    world.barrier();
    const RankIterationRecord& record = executor.run_iteration(iteration);
    for (const TransferRecord& x : record.sent) {
      if (x.producer == activation) mine[0] = x.send_us;
    }
    for (const TransferRecord& x : record.received) {
      if (x.producer == activation) {
        mine[1] = x.arrive_us;
        mine[2] = x.wait_start_us;
      }
    }
    for (const OpRecord& op : record.ops) {
      if (op.op == long_op) {
        mine[3] = op.start_us;
        mine[4] = op.end_us;
      }
    }
  }
  double all[10];
  world.allgather(mine, sizeof mine, all);
  if (world.rank() == 0) {
    const auto number = [](double v) { return v == v ? nlohmann::json(v) : nlohmann::json(nullptr); };
    const nlohmann::json out{{"send", number(all[0])},        {"arrive", number(all[6])},
                             {"wait_start", number(all[7])},  {"compute_start", number(all[8])},
                             {"compute_end", number(all[9])}, {"sleep_slice_us", options.sleep_slice_us}};
    std::printf("%s\n", out.dump().c_str());
  }
  return 0;
}
