// One CUDA backend for several plans (a sweep's points, calibrate's sizes),
// in one process on the double: prepare() again after an iteration remakes
// the buffers for the new plan, keeps the kernel calibration and the device
// probes, and a stuck-rank report never describes the last plan's ops.
#include <gtest/gtest.h>

#include <string>

#include "backends/cuda/cuda_backend.h"
#include "schedules/generators.h"
#include "support/solo_comm.h"

namespace ppb {
namespace {

const RankIterationRecord& run_all_ops(Backend& backend, const Schedule& s, double us) {
  backend.begin_iteration(0);
  for (const Op& op : s.ops[0]) backend.compute(op, us);
  return backend.end_iteration();
}

TEST(CudaBackendReuse, PrepareAgainServesTheNewPlanAndKeepsTheCalibration) {
  test::SoloComm comm;
  auto backend = make_cuda_backend(CudaBackendOptions{}, comm);
  const Schedule small = generate_schedule("gpipe", 1, 2, 1), large = generate_schedule("1f1b", 1, 6, 1);
  RankPlan plan;
  plan.schedule = &small;
  plan.activation_bytes = 4096;
  backend->prepare(plan);
  const nlohmann::json first = backend->context();
  EXPECT_EQ(run_all_ops(*backend, small, 100.0).ops.size(), small.ops[0].size());
  EXPECT_EQ(backend->describe_stall(), "device idle: everything enqueued has completed");

  plan.schedule = &large;
  plan.activation_bytes = 1 << 20;
  backend->prepare(plan);
  // Prepared, nothing enqueued yet: nothing of the last plan to report.
  EXPECT_EQ(backend->describe_stall(), "");
  const nlohmann::json second = backend->context();
  EXPECT_EQ(second["buffer_pool_buffers_per_iteration"], 6);
  EXPECT_EQ(second["buffer_pool_allocated_bytes"], 6u << 20);
  // Calibrated and probed once: the same figures, not a second measurement.
  EXPECT_EQ(second["kernel"], first["kernel"]);
  EXPECT_EQ(second["clock_alignment"]["globaltimer_minus_host_us"],
            first["clock_alignment"]["globaltimer_minus_host_us"]);
  EXPECT_EQ(second["hardware_queues"], first["hardware_queues"]);
  const RankIterationRecord& rec = run_all_ops(*backend, large, 100.0);
  ASSERT_EQ(rec.ops.size(), large.ops[0].size());
  EXPECT_EQ(rec.peak_buffer_bytes, std::uint64_t(1) << 20);  // one activation at a time with one stage
}

}  // namespace
}  // namespace ppb
