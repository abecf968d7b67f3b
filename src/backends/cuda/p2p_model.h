// An event-level model of how the GPU executes one iteration, used by tests
// to check that the CUDA backend's p2p design cannot deadlock (docs/gpu.md).
//
// Streams are FIFO queues. A compute item finishes at once when it reaches the
// head of its queue; a wait item finishes once its transfer has arrived; a send
// and a receive on one link finish together, and only when both are at the
// heads of their queues and the send's producer has finished (a rendezvous: the
// worst case of NCCL, which blocks large messages until the peer has posted
// the matching receive; no transport buffering is assumed).
#pragma once

#include <string>

#include "core/schedule.h"

namespace ppb {

enum class P2pDesign {
  // ppbench: a queue (communicator + stream) per link on each side; the sender
  // sends in its op order after the producer; the receiver posts receives in
  // the sender's order; compute waits on the receive's completion.
  kPerLinkSenderOrder,
  // As above but the receiver posts in its own consumption order: pairs the
  // wrong messages when the two orders differ.
  kPerLinkConsumerOrder,
  // The naive design: blocking sends and receives on the compute queue in
  // program order (receive before the consumer, send after the producer).
  kInlineBlocking,
};

struct P2pModelResult {
  bool complete = false;
  bool mismatch = false;  // a send met a receive posted for another message
  std::string detail;     // what was stuck or mismatched, for test messages
};

// Requires a valid schedule (validate()).
P2pModelResult run_p2p_model(const Schedule& schedule, P2pDesign design);

}  // namespace ppb
