// What the double ran, for tests that check where the backend put its work:
// with PPB_CUDA_DOUBLE_TRACE=DIR each process appends one JSON object per line
// to DIR/rank<R>.jsonl (R: the world rank) as each operation completes:
//   {"op":"kernel","stream":3,"queue":1,"work_us":500,"start_us":...,"end_us":...}
//   {"op":"send"|"recv","stream":4,"queue":2,"comm":1,"peer":2,"bytes":65536,"start_us":...,"end_us":...}
//   {"op":"abort","comm":1,"peer":2,"unblocked":1}
// Streams and communicators are numbered in creation order; peer is the other
// end's world rank; times are the host's steady clock in microseconds (virtual
// start and completion), work_us the kernel's requested work (device clock).
#pragma once

#include <string>

namespace ppb::cuda_double {

bool tracing();
void trace_line(const std::string& json_object);

}  // namespace ppb::cuda_double
