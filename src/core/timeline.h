// What an executor produced: every compute op's start and end and every
// transfer's send and arrival, in microseconds from the iteration start. The
// simulator (predicted) and the runtime (measured) both emit this type.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/op.h"

namespace ppb {

struct OpRecord {
  Op op;
  double start_us = 0;
  double end_us = 0;
};

// A cross-rank hand-off of the output of `producer` (an activation after F, a
// gradient after B) to the rank of its consumer.
struct TransferRecord {
  Op producer;
  int src_rank = 0;
  int dst_rank = 0;
  double send_us = 0;    // producer end (predicted) or send start (measured)
  double arrive_us = 0;  // data usable on the receiver
  std::uint64_t bytes = 0;
  // Measured only: when the consumer began waiting for the data; NaN when it
  // never waited (the data was there first) or for predictions.
  double wait_start_us = std::numeric_limits<double>::quiet_NaN();
};

struct Timeline {
  std::string schedule;       // the schedule's label (Schedule::name)
  std::string generator;      // Schedule::generator: empty unless generated
  std::string source;         // "predicted", "measured" or "replay"
  int num_ranks = 0;
  int num_microbatches = 0;
  int chunks = 1;
  bool split_backward = false;
  std::vector<int> stage_rank;
  std::vector<std::vector<OpRecord>> ranks;  // per rank, in execution order
  std::vector<TransferRecord> transfers;

  int num_stages() const { return static_cast<int>(stage_rank.size()); }
};

struct Schedule;
// Fills what a timeline takes from its schedule (name, P, M, chunks, split
// backward, placement) and `source`; sizes `ranks` to P, keeping each rank's
// records (the simulator reuses their buffers).
void set_timeline_header(Timeline& timeline, const Schedule& schedule, const std::string& source);

}  // namespace ppb
