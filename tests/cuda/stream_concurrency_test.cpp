// The arithmetic of the hardware-queue probe: how many kernels ran at once,
// and which queue count CUDA is asked for.
#include <gtest/gtest.h>

#include "backends/cuda/stream_concurrency.h"

namespace ppb::cuda {
namespace {

TEST(StreamConcurrency, MostIntervalsContainingOneInstant) {
  EXPECT_EQ(max_overlap({}), 0);
  EXPECT_EQ(max_overlap({{0, 2}, {0, 2}, {0, 2}}), 3);
  // Two queues for four streams: two run, then the next two.
  EXPECT_EQ(max_overlap({{0, 2}, {0.001, 2.001}, {2, 4}, {2.001, 4.001}}), 2);
  // Back to back on one queue: touching is not overlapping.
  EXPECT_EQ(max_overlap({{0, 1}, {1, 2}, {2, 3}}), 1);
  EXPECT_EQ(max_overlap({{0, 10}, {1, 2}, {3, 4}, {3.5, 5}}), 3);
  EXPECT_EQ(max_overlap({{5, 5}, {1, 0}}), 0);  // empty or reversed intervals ran nothing
}

TEST(StreamConcurrency, RequestedQueuesAreCudaDeviceMaxConnectionsAsCudaReadsIt) {
  EXPECT_EQ(requested_hardware_queues(nullptr), 8);
  EXPECT_EQ(requested_hardware_queues(""), 8);
  EXPECT_EQ(requested_hardware_queues("32"), 32);
  EXPECT_EQ(requested_hardware_queues("4"), 4);
  EXPECT_EQ(requested_hardware_queues("64"), 32);
  EXPECT_EQ(requested_hardware_queues("0"), 8);
  EXPECT_EQ(requested_hardware_queues("many"), 8);
}

}  // namespace
}  // namespace ppb::cuda
