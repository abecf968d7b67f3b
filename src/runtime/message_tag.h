// MPI tags of the CPU backend's messages. A message is named by the op that
// produced its data (an activation after F(s,m), a gradient after B(s,m)), so
// the tag encodes (microbatch, stage, direction) densely:
//   tag = (microbatch * num_stages + stage) * 2 + (producer is B ? 1 : 0).
// Distinct producers get distinct tags; messages of different iterations never
// meet because every receive of an iteration completes before the next one
// starts. Plain C++ so the encoding is tested without MPI; the backend checks
// max_message_tag against MPI_TAG_UB before the first iteration.
#pragma once

#include "core/op.h"

namespace ppb {

inline long long message_tag(const Op& producer, int num_stages) {
  return (static_cast<long long>(producer.microbatch) * num_stages + producer.stage) * 2 +
         (producer.kind == OpKind::B ? 1 : 0);
}

// The largest tag a schedule of this size uses.
inline long long max_message_tag(int num_stages, int num_microbatches) {
  return message_tag(Op{OpKind::B, num_stages - 1, num_microbatches - 1}, num_stages);
}

// The producer a tag names (inverse of message_tag).
inline Op producer_of_tag(long long tag, int num_stages) {
  Op op;
  op.kind = (tag % 2) == 1 ? OpKind::B : OpKind::F;
  const long long slot = tag / 2;
  op.stage = static_cast<int>(slot % num_stages);
  op.microbatch = static_cast<int>(slot / num_stages);
  return op;
}

}  // namespace ppb
