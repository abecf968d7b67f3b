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
//    every outstanding request: transfers overlap compute. A receive's arrival
//    time is the poll that completed it (a poll tests a second time after a
//    call that ran MPI's progress engine, so it reports what it completed):
//    during a compute, the first poll after the data came (up to one sleep
//    slice plus the wake-up delay after it); while waiting, within a yield.
//    The replay therefore times links by the transfers whose consumer was
//    waiting (analysis/replay.h).
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
  // Longest sleep between progress calls. 50 us brought the stamps of
  // arrivals during compute closer (link 0->1 of interleaved -np 2: median
  // 46 us against 138 us) but made the runs fragile when other jobs share the
  // cores (there, makespan error +26% to +39% in 7 of 9 runs, against 1 of 9
  // runs past +10% with 200 us); the replay does not need it (it times links
  // by waiting consumers).
  double sleep_slice_us = 200;
};

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendOptions& options);

}  // namespace ppb
