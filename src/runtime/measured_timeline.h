// From per-rank records to one measured Timeline, and the pieces that move
// records between ranks. Plain C++ (the MPI transport lives in mpi_world), so
// the assembly and the clock arithmetic are tested without MPI.
#pragma once

#include <vector>

#include "core/schedule.h"
#include "core/timeline.h"
#include "runtime/backend.h"

namespace ppb {

// A record as a flat list of doubles (counts, then fields), and back.
std::vector<double> encode_record(const RankIterationRecord& record);
RankIterationRecord decode_record(const std::vector<double>& data);

// One ping-pong round between rank 0 and a remote rank: rank 0's clock when it
// sent (t0) and when the reply came back (t1), and the remote clock in between.
struct PingRound {
  double t0_us = 0, remote_us = 0, t1_us = 0;
};
struct ClockOffset {
  double offset_us = 0;  // remote clock - rank 0 clock
  double bound_us = 0;   // |error| of offset_us is at most this: rtt / 2
};
// The round with the smallest round trip: offset = remote - (t0 + t1) / 2.
ClockOffset offset_from_rounds(const std::vector<PingRound>& rounds);

// Shifts each rank's record onto rank 0's clock (t - offset_us[r]), pairs every
// received transfer with its sender's send time, and moves time 0 to the
// earliest op start over all ranks. records[r] is rank r's.
Timeline assemble_measured(const Schedule& schedule, const std::vector<RankIterationRecord>& records,
                           const std::vector<double>& offset_us);

}  // namespace ppb
