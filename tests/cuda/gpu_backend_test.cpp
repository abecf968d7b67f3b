// The CUDA backend end to end in one process (one rank): event times on the
// host clock, op durations near their targets, buffers counted, and an NCCL
// send/receive through a one-rank communicator. Skipped without a device.
#include <gtest/gtest.h>

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_check.h"
#include "launch_slack.h"
#include "core/errors.h"
#include "schedules/generators.h"
#include "support/solo_comm.h"

namespace ppb {
namespace {

using test::kLaunchSlackUs;

#define SKIP_WITHOUT_GPU() \
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device"

using test::SoloComm;

TEST(CudaBackend, NoDeviceMeansCudaDeviceAvailableIsFalseAndNoThrow) {
  int count = 0;
  const bool runtime_sees = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  EXPECT_EQ(cuda_device_available(), runtime_sees);
}

TEST(CudaBackend, OneRankIterationIsTimedOnTheHostClock) {
  SKIP_WITHOUT_GPU();
  SoloComm comm;
  CudaBackendOptions o;
  auto backend = make_cuda_backend(o, comm);
  ASSERT_EQ(backend->name(), "cuda");
  const Schedule s = generate_schedule("1f1b", 1, 4, 1);
  RankPlan plan;
  plan.schedule = &s;
  plan.activation_bytes = 1 << 20;
  backend->prepare(plan);
  const nlohmann::json c = backend->context();
  EXPECT_FALSE(c["device"]["name"].get<std::string>().empty());
  EXPECT_GT(c["device"]["sm_count"].get<int>(), 0);
  EXPECT_EQ(c["kernel"]["kind"], "spin");

  for (int iteration = 0; iteration < 2; ++iteration) {
    const double before = backend->now_us();
    backend->begin_iteration(iteration);
    for (const Op& op : s.ops[0]) backend->compute(op, op.kind == OpKind::F ? 500.0 : 1000.0);
    EXPECT_EQ(backend->describe_stall(), "");  // still enqueueing: the executor's account holds
    const RankIterationRecord rec = backend->end_iteration();
    EXPECT_EQ(backend->describe_stall(), "device idle: everything enqueued has completed");
    const double after = backend->now_us();
    ASSERT_EQ(rec.ops.size(), s.ops[0].size());
    double prev_end = before;
    for (std::size_t i = 0; i < rec.ops.size(); ++i) {
      const OpRecord& r = rec.ops[i];
      EXPECT_EQ(r.op, s.ops[0][i]);
      const double target = r.op.kind == OpKind::F ? 500.0 : 1000.0;
      EXPECT_GT(r.end_us - r.start_us, 0.75 * target) << describe(r.op);
      EXPECT_LT(r.end_us - r.start_us, 1.25 * target + kLaunchSlackUs) << describe(r.op);
      EXPECT_GE(r.start_us, prev_end - 5.0) << describe(r.op);  // one stream: in order, no overlap
      prev_end = r.end_us;
    }
    EXPECT_LE(prev_end, after + 5.0);
    // 1F1B with one stage: one activation held at a time.
    EXPECT_EQ(rec.peak_buffer_bytes, std::uint64_t(1) << 20);
  }
  // One buffer per forward, all allocated in prepare.
  const nlohmann::json after = backend->context();
  EXPECT_EQ(after["buffer_pool_buffers_per_iteration"], 4);
  EXPECT_EQ(after["buffer_pool_reserved_buffers"], 4);
  EXPECT_EQ(after["buffer_pool_growths"], 0);
}

// What a stuck rank would print: read from another thread (the watchdog's)
// while the main thread waits in end_iteration for a long first op.
TEST(CudaBackend, DescribeStallNamesTheOpTheDeviceIsIn) {
  SKIP_WITHOUT_GPU();
  SoloComm comm;
  auto backend = make_cuda_backend(CudaBackendOptions{}, comm);
  const Schedule s = generate_schedule("gpipe", 1, 2, 1);  // F0 F1 B0 B1
  RankPlan plan;
  plan.schedule = &s;
  plan.activation_bytes = 4096;
  backend->prepare(plan);
  backend->begin_iteration(0);
  backend->compute(s.ops[0][0], 400000.0);  // 400 ms
  for (std::size_t i = 1; i < s.ops[0].size(); ++i) backend->compute(s.ops[0][i], 100.0);
  std::string seen;
  std::thread watchdog([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = backend->describe_stall();
  });
  backend->end_iteration();
  watchdog.join();
  EXPECT_EQ(seen, "compute stream in F0@s0");
}

TEST(Nccl, SendAndReceiveThroughAOneRankCommunicator) {
  SKIP_WITHOUT_GPU();
  CUDA_CHECK(cudaSetDevice(0));
  ncclComm_t comm = nullptr;
  int devices[1] = {0};
  NCCL_CHECK(ncclCommInitAll(&comm, 1, devices));
  const std::size_t n = 1 << 22;
  std::vector<unsigned char> host(n);
  for (std::size_t i = 0; i < n; ++i) host[i] = static_cast<unsigned char>(i * 7);
  void *src = nullptr, *dst = nullptr;
  CUDA_CHECK(cudaMalloc(&src, n));
  CUDA_CHECK(cudaMalloc(&dst, n));
  CUDA_CHECK(cudaMemcpy(src, host.data(), n, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(dst, 0, n));
  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  NCCL_CHECK(ncclGroupStart());
  NCCL_CHECK(ncclSend(src, n, ncclUint8, 0, comm, stream));
  NCCL_CHECK(ncclRecv(dst, n, ncclUint8, 0, comm, stream));
  NCCL_CHECK(ncclGroupEnd());
  CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<unsigned char> back(n);
  CUDA_CHECK(cudaMemcpy(back.data(), dst, n, cudaMemcpyDeviceToHost));
  EXPECT_EQ(back, host);
  CUDA_CHECK(cudaFree(src));
  CUDA_CHECK(cudaFree(dst));
  CUDA_CHECK(cudaStreamDestroy(stream));
  NCCL_CHECK(ncclCommDestroy(comm));
}

TEST(CudaCheck, FailuresBecomeRunErrorsNamingFileHostAndRank) {
  // Needs no device: an invalid argument fails before the driver is asked.
  cuda::set_error_rank(3);
  try {
    CUDA_CHECK(cudaErrorInvalidValue);
    FAIL() << "no throw";
  } catch (const RunError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("gpu_backend_test.cpp:"), std::string::npos) << m;
    EXPECT_NE(m.find("rank 3"), std::string::npos) << m;
    EXPECT_NE(m.find("on host "), std::string::npos) << m;
    EXPECT_NE(m.find("cudaErrorInvalidValue"), std::string::npos) << m;
    EXPECT_EQ(e.exit_code(), kExitRunFailed);
  }
  try {
    NCCL_CHECK(ncclInvalidArgument);
    FAIL() << "no throw";
  } catch (const RunError& e) {
    EXPECT_NE(std::string(e.what()).find("NCCL error at"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ppb
