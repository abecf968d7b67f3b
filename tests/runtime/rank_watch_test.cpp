// The rank watch: which line a stuck rank prints in set-up and in an
// iteration, that the backend is aborted before the job is stopped, and that
// nothing detached is touched.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "runtime/executor.h"
#include "runtime/rank_watch.h"
#include "schedules/generators.h"

namespace ppb {
namespace {

class StuckBackend : public Backend {
 public:
  std::string stall;
  std::atomic<int> aborts{0};

  std::string name() const override { return "stuck"; }
  nlohmann::json context() const override { return {}; }
  void prepare(const RankPlan&) override {}
  void begin_iteration(int) override {}
  void wait_input(const Transfer&) override {}
  void compute(const Op&, double) override {}
  void send_output(const Transfer&) override {}
  const RankIterationRecord& end_iteration() override { return record_; }
  double now_us() const override { return 0; }
  std::string describe_stall() const noexcept override { return stall; }
  void abort() noexcept override { ++aborts; }

 private:
  RankIterationRecord record_;
};

CostModel one_ms(const Schedule& s) {
  CostInputs in;
  in.forward_ms = {1};
  in.backward_ms = {1};
  return make_cost_model(in, s);
}

// Waits for the watch's stop call (bounded: a watch that never fires fails the test).
bool stopped_within(std::future<void>& stopped, double seconds) {
  return stopped.wait_for(std::chrono::duration<double>(seconds)) == std::future_status::ready;
}

TEST(RankWatch, SetUpExpiryNamesRankStepAndBackendStallThenAbortsAndStops) {
  StuckBackend backend;
  backend.stall = "creating the NCCL communicator of link 0->1";
  std::promise<void> stop;
  std::future<void> stopped = stop.get_future();
  std::atomic<int> aborts_at_stop{-1};
  RankWatch watch(2, [&] {
    aborts_at_stop = backend.aborts.load();
    stop.set_value();
  }, std::chrono::milliseconds(10));
  watch.attach(&backend, nullptr);
  watch.start_setup(60, "creating the backend");
  watch.setup_step("aligning clocks");
  EXPECT_EQ(watch.describe(),
            "rank 2 timed out in set-up, aligning clocks (creating the NCCL communicator of link 0->1)");
  testing::internal::CaptureStderr();
  watch.start_setup(0.05, "preparing the backend");
  ASSERT_TRUE(stopped_within(stopped, 30));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err,
            "ppbench: rank 2 timed out in set-up, preparing the backend (creating the NCCL communicator of link "
            "0->1)\n");
  EXPECT_EQ(aborts_at_stop.load(), 1);  // the backend is aborted before the job is stopped
  watch.detach(&backend);
}

TEST(RankWatch, IterationExpiryNamesWhereTheExecutorIsAndWhatTheDeviceWaitsFor) {
  const Schedule s = make_1f1b(2, 2);
  StuckBackend backend;
  Executor executor(s, 1, one_ms(s), 0, backend);
  RankWatch watch(1, [] {}, std::chrono::milliseconds(0));
  watch.attach(&backend, &executor);
  watch.start_iteration(60, 4);
  // Armed for iteration 4 while the executor has not started it: the barrier.
  EXPECT_EQ(watch.describe(),
            "rank 1 timed out in iteration 4 before its first op; waiting for the other ranks (iteration barrier)");
  backend.stall = "receive of F0@s0 from rank 0 not complete";
  executor.run_iteration(4);  // the fake completes at once: the executor is back to idle after its last op
  EXPECT_EQ(watch.describe(),
            "rank 1 timed out in iteration 4 after B1@s1; waiting for the other ranks (iteration barrier or gather); "
            "on the device: receive of F0@s0 from rank 0 not complete");
  watch.finish();
  watch.detach(&backend);
}

TEST(RankWatch, DetachLeavesANewerSessionsBackendAttached) {
  StuckBackend old_backend, new_backend;
  new_backend.stall = "new";
  RankWatch watch(0, [] {}, std::chrono::milliseconds(0));
  watch.attach(&new_backend, nullptr);
  watch.start_setup(60, "preparing the backend");
  watch.detach(&old_backend);  // the old session going away
  EXPECT_EQ(watch.describe(), "rank 0 timed out in set-up, preparing the backend (new)");
  watch.detach(&new_backend);
  EXPECT_EQ(watch.describe(), "rank 0 timed out in set-up, preparing the backend");
  watch.finish();
}

TEST(RankWatch, FinishedOrDetachedWatchTouchesNothing) {
  StuckBackend backend;
  std::atomic<int> stops{0};
  std::promise<void> stop;
  std::future<void> stopped = stop.get_future();
  {
    RankWatch watch(0, [&] {
      if (++stops == 1) stop.set_value();
    }, std::chrono::milliseconds(0));
    watch.attach(&backend, nullptr);
    watch.start_setup(1.0, "aligning clocks");
    watch.finish();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_EQ(stops.load(), 0);
    watch.detach(&backend);  // the session is gone: expiry must not reach its backend
    testing::internal::CaptureStderr();
    watch.start_setup(0.05, "aligning clocks");
    ASSERT_TRUE(stopped_within(stopped, 30));
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "ppbench: rank 0 timed out in set-up, aligning clocks\n");
  }
  EXPECT_EQ(stops.load(), 1);
  EXPECT_EQ(backend.aborts.load(), 0);
}

// A backend whose abort never returns (NCCL teardown blocked behind a
// spinning kernel) must not keep the job from being stopped.
TEST(RankWatch, AHangingAbortDoesNotKeepTheJobFromStopping) {
  class HangingAbort : public StuckBackend {
   public:
    std::shared_ptr<std::promise<void>> release = std::make_shared<std::promise<void>>();
    std::shared_future<void> released = release->get_future().share();
    void abort() noexcept override {
      const std::shared_future<void> until = released;  // a copy: the backend may go once it is released
      until.wait();
    }
  };
  HangingAbort backend;
  std::promise<void> stop;
  std::future<void> stopped = stop.get_future();
  RankWatch watch(3, [&] { stop.set_value(); }, std::chrono::milliseconds(0), std::chrono::milliseconds(100));
  watch.attach(&backend, nullptr);
  testing::internal::CaptureStderr();
  watch.start_setup(0.05, "preparing the backend");
  ASSERT_TRUE(stopped_within(stopped, 30));
  EXPECT_NE(testing::internal::GetCapturedStderr().find("rank 3: backend abort still running after 100 ms; stopping anyway"),
            std::string::npos);
  backend.release->set_value();  // let the abort thread end before the backend goes
  watch.detach(&backend);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// Once the watch has fired, the main thread's next error (a peer's abort
// closing a link) is the stop's consequence: expired() says so and
// park_if_expired() then holds the thread for good; before, it returns at once.
TEST(RankWatch, ExpiredFromTheMomentTheWatchFires) {
  StuckBackend backend;
  std::promise<void> stop;
  std::future<void> stopped = stop.get_future();
  RankWatch watch(1, [&] { stop.set_value(); }, std::chrono::milliseconds(0));
  watch.attach(&backend, nullptr);
  watch.start_setup(60, "preparing the backend");
  EXPECT_FALSE(watch.expired());
  watch.park_if_expired();  // returns: nothing has fired
  testing::internal::CaptureStderr();
  watch.start_setup(0.05, "preparing the backend");
  ASSERT_TRUE(stopped_within(stopped, 30));
  testing::internal::GetCapturedStderr();
  EXPECT_TRUE(watch.expired());
  watch.detach(&backend);
}

}  // namespace
}  // namespace ppb
