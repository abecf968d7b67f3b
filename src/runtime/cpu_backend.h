// The CPU backend: compute is host work lasting the op's target time, transfers
// are real MPI messages of --activation-bytes between the ranks.
//  - compute: sleep in slices for all but the last `spin_us`, then spin to the
//    deadline. Sleeping keeps an oversubscribed host (more ranks than cores)
//    honest: a rank that waits or computes leaves the core to the others;
//    the short spin absorbs the wake-up latency of the last sleep. Timer slack
//    is set to 1 ns (PR_SET_TIMERSLACK) so sleeps end when asked.
//  - every receive of an iteration is posted in begin_iteration (MPI_Irecv), and
//    sends are MPI_Isend, so any valid schedule completes whatever the message
//    size or order: nothing relies on eager buffering.
//  - between sleep slices and while spinning or waiting, MPI_Testsome progresses
//    every outstanding request: transfers overlap compute, and a receive's
//    arrival time is when the test first saw it complete (at most one slice
//    late during compute).
//  - waiting for data (and for the iteration's last sends) polls MPI_Testsome
//    with sched_yield in between, not sleep: a sleep on a VM overshoots by
//    ~40 us or more, which put ~170 us on every transfer of the critical path
//    (measured: median transfer 177 us with 20 us sleeps, 47 us with yields);
//    yielding still hands the core to a rank that has compute to do.
// It uses MPI, so it lives in the runtime; its header names no MPI type.
#pragma once

#include <memory>

#include "runtime/backend.h"

namespace ppb {

struct CpuBackendOptions {
  double spin_us = 100;         // busy tail of each compute op
  double sleep_slice_us = 200;  // longest sleep between progress calls
};

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& options);

}  // namespace ppb
