// The plain C++ parts of how the CUDA backend reports and aborts a stuck rank:
// the call gate between the main thread's NCCL calls and the watchdog's
// abort, and the wording of the device's progress.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "backends/cuda/call_gate.h"
#include "backends/cuda/device_progress.h"

namespace ppb::cuda {
namespace {

using std::chrono::milliseconds;

TEST(CallGate, AbortRunsAtOnceWhenNoCallIsInProgress) {
  CallGate gate;
  { CallGate::Scope call = gate.enter("ncclSend of F0@s0 to rank 1"); }
  EXPECT_EQ(gate.holder(), "");
  bool ran = false;
  EXPECT_TRUE(gate.run_exclusive(milliseconds(0), [&] { ran = true; }));
  EXPECT_TRUE(ran);
}

TEST(CallGate, AbortIsSkippedWhileTheMainThreadIsStuckInACallAndNamesIt) {
  CallGate gate;
  std::promise<void> inside, release;
  std::shared_future<void> released = release.get_future().share();
  std::thread main_thread([&] {
    CallGate::Scope call = gate.enter("ncclRecv of B2@s2 from rank 2");
    inside.set_value();
    released.wait();
  });
  inside.get_future().wait();
  EXPECT_EQ(gate.holder(), "ncclRecv of B2@s2 from rank 2");
  bool ran = false;
  EXPECT_FALSE(gate.run_exclusive(milliseconds(50), [&] { ran = true; }));
  EXPECT_FALSE(ran);
  release.set_value();
  main_thread.join();
  EXPECT_TRUE(gate.run_exclusive(milliseconds(50), [&] { ran = true; }));
  EXPECT_TRUE(ran);
}

TEST(CallGate, AbortWaitsForACallThatEndsWithinTheGraceAndTheNextCallWaitsForTheAbort) {
  CallGate gate;
  std::atomic<int> step{0};
  std::promise<void> inside;
  std::thread main_thread([&] {
    {
      CallGate::Scope call = gate.enter("ncclSend of F1@s0 to rank 1");
      inside.set_value();
      while (!gate.exclusive_waiting()) std::this_thread::yield();  // the abort is queued behind this call
      step = 1;
    }
    CallGate::Scope next = gate.enter("ncclSend of F2@s0 to rank 1");
    EXPECT_EQ(step.load(), 2);  // entered only after the abort finished
  });
  inside.get_future().wait();
  EXPECT_TRUE(gate.run_exclusive(milliseconds(5000), [&] {
    EXPECT_EQ(step.load(), 1);  // never concurrent with the call
    std::this_thread::sleep_for(milliseconds(50));
    step = 2;
  }));
  main_thread.join();
}

Op op(OpKind kind, int stage, int microbatch) { return Op{kind, stage, microbatch}; }

TEST(DeviceProgress, NamesTheFirstUnfinishedOpAndPerPeerTheFirstPendingTransfer) {
  DeviceProgress p;
  p.ops = {{op(OpKind::F, 1, 0), true, true}, {op(OpKind::F, 1, 1), true, true}, {op(OpKind::B, 1, 0), false, false},
           {op(OpKind::F, 1, 2), false, false}};
  p.receives = {{op(OpKind::F, 0, 0), 0, true},  {op(OpKind::F, 0, 1), 0, true},  {op(OpKind::B, 2, 0), 2, false},
                {op(OpKind::F, 0, 2), 0, false}, {op(OpKind::B, 2, 1), 2, false}, {op(OpKind::F, 0, 3), 0, false}};
  p.sends = {{op(OpKind::F, 1, 0), 2, true}, {op(OpKind::F, 1, 1), 2, false}};
  EXPECT_EQ(describe_device_progress(p),
            "compute stream before B0@s1 (after F1@s1); receive of B0@s2 from rank 2 pending; receive of F2@s0 from "
            "rank 0 pending (4 of 6 receives); send of F1@s1 to rank 2 pending (1 of 2 sends)");
}

TEST(DeviceProgress, OpInProgressAndAnIdleDevice) {
  DeviceProgress p;
  p.ops = {{op(OpKind::F, 0, 0), true, false}};
  EXPECT_EQ(describe_device_progress(p), "compute stream in F0@s0");
  p.ops[0].ended = true;
  p.sends = {{op(OpKind::F, 0, 0), 1, true}};
  EXPECT_EQ(describe_device_progress(p), "device idle: everything enqueued has completed");
}

}  // namespace
}  // namespace ppb::cuda
