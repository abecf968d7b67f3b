// The double against the CUDA and NCCL semantics it claims (double/cuda_double.h):
// event queries and the last error, the sticky error, cross-stream waits,
// elapsed times, the legacy stream's implicit synchronisation, the memory
// capacity, hardware queues, and NCCL's rendezvous, groups, abort and
// asynchronous errors. One process; label cuda-double.
#include <gtest/gtest.h>

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/device_probes.h"
#include "stage_kernels.h"

namespace ppb {
namespace {

constexpr double kLaunchUs = 2.0;  // PPB_CUDA_DOUBLE_LAUNCH_US's default

cudaStream_t new_stream(unsigned flags = cudaStreamNonBlocking) {
  cudaStream_t s = nullptr;
  EXPECT_EQ(cudaStreamCreateWithFlags(&s, flags), cudaSuccess);
  return s;
}

cudaEvent_t new_event(unsigned flags = cudaEventDefault) {
  cudaEvent_t e = nullptr;
  EXPECT_EQ(cudaEventCreateWithFlags(&e, flags), cudaSuccess);
  return e;
}

float elapsed_ms(cudaEvent_t a, cudaEvent_t b) {
  float ms = 0;
  EXPECT_EQ(cudaEventElapsedTime(&ms, a, b), cudaSuccess);
  return ms;
}

TEST(DoubleRuntime, EventQueryIsNotReadyUntilReachedAndLeavesItAsTheLastError) {
  const cudaStream_t s = new_stream();
  const cudaEvent_t never = new_event(), e = new_event();
  EXPECT_EQ(cudaEventQuery(never), cudaSuccess);  // never recorded: an empty capture
  ASSERT_EQ(kernels::launch_spin(s, 50'000'000, 1), 0);
  ASSERT_EQ(cudaEventRecord(e, s), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(e), cudaErrorNotReady);
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorNotReady);  // peek does not reset
  EXPECT_EQ(cudaGetLastError(), cudaErrorNotReady);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // get does
  EXPECT_EQ(cudaEventSynchronize(e), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(e), cudaSuccess);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

// The backend's query_event: the state without the last error it leaves.
TEST(DoubleRuntime, BackendsQueryEventClearsTheNotReadyOfAPendingEvent) {
  const cudaStream_t s = new_stream();
  const cudaEvent_t e = new_event();
  ASSERT_EQ(kernels::launch_spin(s, 50'000'000, 1), 0);
  ASSERT_EQ(cudaEventRecord(e, s), cudaSuccess);
  EXPECT_EQ(cuda::query_event(e), cudaErrorNotReady);
  EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
  EXPECT_EQ(cuda::query_stream(s), cudaErrorNotReady);
  EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
}

// A launch function returns cudaGetLastError after its launch: its own
// error, or one the thread left behind (the real launch functions clear that
// first; the double does not, so a caller that leaves errors behind fails).
TEST(DoubleRuntime, ALaunchReportsTheErrorLeftBeforeItAndResetsIt) {
  const cudaStream_t s = new_stream();
  (void)cudaEventQuery(nullptr);  // leaves cudaErrorInvalidResourceHandle behind
  EXPECT_EQ(kernels::launch_spin(s, 1000, 1), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(kernels::launch_spin(s, 1000, 1), 0);
  EXPECT_EQ(kernels::launch_spin(s, 1000, 0), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // non-sticky: the launch's own get reset it
  const cudaEvent_t e = new_event();
  ASSERT_EQ(kernels::launch_spin(s, 50'000'000, 1), 0);
  ASSERT_EQ(cudaEventRecord(e, s), cudaSuccess);
  ASSERT_EQ(cudaEventQuery(e), cudaErrorNotReady);
  EXPECT_EQ(kernels::launch_spin(s, 1000, 1), cudaErrorNotReady);  // what query_event exists to prevent
  ASSERT_EQ(cuda::query_event(e), cudaErrorNotReady);
  EXPECT_EQ(kernels::launch_spin(s, 1000, 1), 0);
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
}

TEST(DoubleRuntime, ElapsedTimeIsTheKernelsDeviceTimeAndRefusesWhatIsNotReady) {
  const cudaStream_t s = new_stream();
  const cudaEvent_t a = new_event(), b = new_event(), untimed = new_event(cudaEventDisableTiming),
                    unrecorded = new_event();
  float ms = 0;
  // A busy stream: `a` and the kernel start together, when the first kernel ends.
  ASSERT_EQ(kernels::launch_spin(s, 5'000'000, 1), 0);
  ASSERT_EQ(cudaEventRecord(a, s), cudaSuccess);
  ASSERT_EQ(kernels::launch_spin(s, 30'000'000, 1), 0);
  ASSERT_EQ(cudaEventRecord(b, s), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(untimed, s), cudaSuccess);
  EXPECT_EQ(cudaEventElapsedTime(&ms, a, b), cudaErrorNotReady);
  EXPECT_EQ(cudaEventElapsedTime(&ms, a, unrecorded), cudaErrorInvalidResourceHandle);
  ASSERT_EQ(cudaEventSynchronize(untimed), cudaSuccess);
  EXPECT_EQ(cudaEventElapsedTime(&ms, a, untimed), cudaErrorInvalidResourceHandle);
  // The kernel's launch cost and work exactly: device time has no host noise.
  EXPECT_NEAR(elapsed_ms(a, b), 30.0 + kLaunchUs / 1000.0, 1e-4);
  (void)cudaGetLastError();
}

TEST(DoubleRuntime, StreamWaitEventUsesTheCaptureAtTheTimeOfTheCall) {
  const cudaStream_t producer = new_stream(), consumer = new_stream();
  const cudaEvent_t produced = new_event(), first = new_event(), consumed = new_event();
  ASSERT_EQ(kernels::launch_spin(producer, 20'000'000, 1), 0);
  ASSERT_EQ(cudaEventRecord(produced, producer), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(first, producer), cudaSuccess);
  ASSERT_EQ(cudaStreamWaitEvent(consumer, produced, 0), cudaSuccess);
  // Recorded again after the wait: the wait keeps the earlier capture.
  ASSERT_EQ(kernels::launch_spin(producer, 40'000'000, 1), 0);
  ASSERT_EQ(cudaEventRecord(produced, producer), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(consumed, consumer), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_NEAR(elapsed_ms(first, consumed), 0.0, 1e-3);  // right after the first kernel
  EXPECT_GT(elapsed_ms(consumed, produced), 39.0);       // not after the second
}

// CUDA programming guide, implicit synchronisation: the legacy stream waits
// for the blocking streams; a cudaStreamNonBlocking stream is not waited for.
TEST(DoubleRuntime, LegacyStreamWaitsForBlockingStreamsOnly) {
  const cudaStream_t blocking = new_stream(cudaStreamDefault), nonblocking = new_stream();
  const cudaEvent_t blocking_done = new_event(), nonblocking_done = new_event(), legacy_reached = new_event();
  ASSERT_EQ(kernels::launch_spin(blocking, 30'000'000, 1), 0);
  ASSERT_EQ(cudaEventRecord(blocking_done, blocking), cudaSuccess);
  ASSERT_EQ(kernels::launch_spin(nonblocking, 80'000'000, 1), 0);
  ASSERT_EQ(cudaEventRecord(nonblocking_done, nonblocking), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(legacy_reached, nullptr), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_GE(elapsed_ms(blocking_done, legacy_reached), 0.0f);
  EXPECT_GT(elapsed_ms(legacy_reached, nonblocking_done), 40.0f);
}

TEST(DoubleRuntime, AllocationsBeyondTheCapacityFailWithoutTouchingTheOthers) {
  std::size_t free_before = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_before, &total), cudaSuccess);
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, std::size_t(1) << 30), cudaSuccess);
  std::size_t free_after = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_after, &total), cudaSuccess);
  EXPECT_EQ(free_before - free_after, std::size_t(1) << 30);
  void* too_big = nullptr;
  EXPECT_EQ(cudaMalloc(&too_big, total), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaGetLastError(), cudaErrorMemoryAllocation);
  EXPECT_EQ(cudaFree(p), cudaSuccess);
  EXPECT_EQ(cudaFree(p), cudaErrorInvalidValue);  // freed already
  (void)cudaGetLastError();
}

TEST(DoubleRuntime, MemcpyAndMemsetMoveBytesThroughDeviceMemory) {
  void* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 64), cudaSuccess);
  ASSERT_EQ(cudaMemset(d, 7, 64), cudaSuccess);
  unsigned char back[64] = {0};
  ASSERT_EQ(cudaMemcpy(back, d, 64, cudaMemcpyDeviceToHost), cudaSuccess);
  for (unsigned char b : back) EXPECT_EQ(b, 7);
  EXPECT_EQ(cudaMemcpy(back, back + 8, 8, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);  // not device memory
  (void)cudaGetLastError();
  ASSERT_EQ(cudaFree(d), cudaSuccess);
}

// The backend's queue probe on the double: without CUDA_DEVICE_MAX_CONNECTIONS
// CUDA asks for 8 queues; 16 streams then share them, two per queue.
TEST(DoubleRuntime, StreamsBeyondTheGrantedQueuesShareThemInTurn) {
  const cuda::QueueProbe probe = cuda::probe_concurrent_streams(16, 5000.0);
  EXPECT_EQ(probe.streams, 16);
  EXPECT_EQ(probe.concurrent, 8);
  EXPECT_EQ(cuda::probe_concurrent_streams(4, 5000.0).concurrent, 4);
}

TEST(DoubleRuntimeDeathTest, AKernelFaultIsStickyForEveryLaterCall) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::setenv("PPB_CUDA_DOUBLE_FAULTS", "*:kernel>=1ms:fault", 1);
        cudaStream_t s = nullptr;
        cudaStreamCreate(&s);
        kernels::launch_spin(s, 2'000'000, 1);
        const bool failed = cudaStreamSynchronize(s) == cudaErrorIllegalAddress;
        cudaEvent_t e = nullptr;
        const bool every_call = cudaEventCreate(&e) == cudaErrorIllegalAddress &&
                                kernels::launch_spin(s, 1000, 1) == cudaErrorIllegalAddress;
        const bool stays = cudaGetLastError() == cudaErrorIllegalAddress && cudaGetLastError() == cudaErrorIllegalAddress;
        std::_Exit(failed && every_call && stays ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(DoubleRuntimeDeathTest, AMalformedFaultRuleEndsTheProcessNamingIt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::setenv("PPB_CUDA_DOUBLE_FAULTS", "1:kernel>=5parsecs:hang", 1);
        void* p = nullptr;
        cudaMalloc(&p, 16);  // the first fault check reads the rules
      },
      ::testing::ExitedWithCode(2), "PPB_CUDA_DOUBLE_FAULTS: '1:kernel>=5parsecs:hang'");
}

// Two ranks of one communicator, each on a thread of this process.
struct Pair {
  ncclComm_t comm[2] = {nullptr, nullptr};
  Pair() {
    ncclUniqueId id{};
    EXPECT_EQ(ncclGetUniqueId(&id), ncclSuccess);
    std::thread other([&] { EXPECT_EQ(ncclCommInitRank(&comm[1], 2, id, 1), ncclSuccess); });
    EXPECT_EQ(ncclCommInitRank(&comm[0], 2, id, 0), ncclSuccess);
    other.join();
  }
};

bool done_within(cudaStream_t s, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cuda::query_stream(s) == cudaSuccess) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// "This operation is blocking for the GPU": a send completes only once its
// receive has started, whatever the size (no buffering to hide behind).
TEST(DoubleNccl, ASendWaitsForItsReceiveAndDeliversTheBytes) {
  Pair pair;
  const cudaStream_t sender = new_stream(), receiver = new_stream();
  void *src = nullptr, *dst = nullptr;
  ASSERT_EQ(cudaMalloc(&src, 8), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dst, 8), cudaSuccess);
  const char text[8] = "payload";
  ASSERT_EQ(cudaMemcpy(src, text, 8, cudaMemcpyHostToDevice), cudaSuccess);
  const cudaEvent_t sent = new_event(), received = new_event();
  ASSERT_EQ(ncclSend(src, 8, ncclUint8, 1, pair.comm[0], sender), ncclSuccess);
  ASSERT_EQ(cudaEventRecord(sent, sender), cudaSuccess);
  EXPECT_FALSE(done_within(sender, std::chrono::milliseconds(100)));  // no receive yet: it stays blocked
  // The receiver's stream reaches its receive 20 ms after it is posted.
  ASSERT_EQ(kernels::launch_spin(receiver, 20'000'000, 1), 0);
  ASSERT_EQ(ncclRecv(dst, 8, ncclUint8, 0, pair.comm[1], receiver), ncclSuccess);
  ASSERT_EQ(cudaEventRecord(received, receiver), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  char back[8] = {0};
  ASSERT_EQ(cudaMemcpy(back, dst, 8, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_STREQ(back, "payload");
  // Both ends complete together, a link's cost after the later of the two starts.
  EXPECT_NEAR(elapsed_ms(sent, received), 0.0, 1e-3);
  EXPECT_EQ(ncclCommDestroy(pair.comm[0]), ncclSuccess);
  EXPECT_EQ(ncclCommDestroy(pair.comm[1]), ncclSuccess);
}

// Calls in a group progress together: a rank that sends and receives on one
// stream completes where two separate calls would wait for each other.
TEST(DoubleNccl, AGroupedSendAndReceiveOnOneStreamComplete) {
  Pair pair;
  const cudaStream_t a = new_stream(), b = new_stream();
  void* buffers[4] = {nullptr, nullptr, nullptr, nullptr};
  for (void*& p : buffers) ASSERT_EQ(cudaMalloc(&p, 1 << 20), cudaSuccess);
  for (int rank = 0; rank < 2; ++rank) {
    const cudaStream_t s = rank == 0 ? a : b;
    ASSERT_EQ(ncclGroupStart(), ncclSuccess);
    ASSERT_EQ(ncclSend(buffers[2 * rank], 1 << 20, ncclUint8, 1 - rank, pair.comm[rank], s), ncclSuccess);
    ASSERT_EQ(ncclRecv(buffers[2 * rank + 1], 1 << 20, ncclUint8, 1 - rank, pair.comm[rank], s), ncclSuccess);
    ASSERT_EQ(ncclGroupEnd(), ncclSuccess);
  }
  EXPECT_TRUE(done_within(a, std::chrono::seconds(20)));
  EXPECT_TRUE(done_within(b, std::chrono::seconds(20)));
  EXPECT_EQ(ncclCommDestroy(pair.comm[0]), ncclSuccess);
  EXPECT_EQ(ncclCommDestroy(pair.comm[1]), ncclSuccess);
}

// ncclCommAbort completes what waits; the other end sees its peer gone
// (an abort, or a death, ends the connection without ncclCommDestroy).
TEST(DoubleNccl, AbortUnblocksTheWaitingSendAndThePeerSeesARemoteError) {
  Pair pair;
  const cudaStream_t s = new_stream();
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 16), cudaSuccess);
  ASSERT_EQ(ncclSend(p, 16, ncclUint8, 1, pair.comm[0], s), ncclSuccess);
  EXPECT_FALSE(done_within(s, std::chrono::milliseconds(50)));
  ncclResult_t state = ncclInternalError;
  ASSERT_EQ(ncclCommGetAsyncError(pair.comm[1], &state), ncclSuccess);
  EXPECT_EQ(state, ncclSuccess);
  testing::internal::CaptureStderr();
  ASSERT_EQ(ncclCommAbort(pair.comm[0]), ncclSuccess);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("ncclCommAbort of the communicator with world rank 0 (1 "
                                                        "operation(s) unblocked)"),
            std::string::npos);
  EXPECT_TRUE(done_within(s, std::chrono::seconds(20)));
  for (int i = 0; i < 2000 && state == ncclSuccess; ++i) {
    ASSERT_EQ(ncclCommGetAsyncError(pair.comm[1], &state), ncclSuccess);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(state, ncclRemoteError);
  EXPECT_EQ(ncclCommAbort(pair.comm[1]), ncclSuccess);
}

TEST(DoubleNccl, ADestroyedPeerIsNotAnError) {
  Pair pair;
  ASSERT_EQ(ncclCommDestroy(pair.comm[1]), ncclSuccess);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ncclResult_t state = ncclInternalError;
  ASSERT_EQ(ncclCommGetAsyncError(pair.comm[0], &state), ncclSuccess);
  EXPECT_EQ(state, ncclSuccess);
  EXPECT_EQ(ncclCommDestroy(pair.comm[0]), ncclSuccess);
}

TEST(DoubleNccl, BuffersMustBeDeviceMemoryAndPeersTheOtherRank) {
  ncclComm_t solo = nullptr;
  const int device = 0;
  ASSERT_EQ(ncclCommInitAll(&solo, 1, &device), ncclSuccess);
  char host[4] = {0};
  EXPECT_EQ(ncclSend(host, 4, ncclUint8, 0, solo, nullptr), ncclInvalidArgument);
  EXPECT_NE(std::string(ncclGetLastError(solo)).find("device memory"), std::string::npos);
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 4), cudaSuccess);
  EXPECT_EQ(ncclSend(p, 4, ncclUint8, 1, solo, nullptr), ncclInvalidArgument);
  EXPECT_EQ(ncclCommDestroy(solo), ncclSuccess);
  int version = 0;
  ASSERT_EQ(ncclGetVersion(&version), ncclSuccess);
  EXPECT_EQ(version, NCCL_VERSION_CODE);
}

}  // namespace
}  // namespace ppb
