// Chrome trace event JSON (the "JSON object format" read by Perfetto and
// chrome://tracing), schema "ppbench.trace/1":
//   - a process per rank (pid r, named "GPU r", sorted by rank);
//   - per timeline a compute thread (tid 1, or 101 for the predicted timeline
//     beside a measured one) and transfer threads after it (transfers may
//     overlap, so they take as many lanes as they need; a lane never holds two
//     at once);
//   - one complete event ("ph":"X") per op, name "F3@s1", cat = kind name, args
//     {stage, chunk, microbatch, kind, source};
//   - per cross-rank transfer a "send" slice on the source rank (send to
//     arrival), a zero-length "recv" slice on the destination rank at the
//     arrival (after a "wait" slice when a measured consumer waited for it), and
//     a flow arrow from the send to the recv (flow v2: "bind_id" with
//     "flow_out" / "flow_in" on the two slices);
//   - with a measured and a predicted timeline, each rank holds both sets of
//     threads, predicted beside measured, thread names saying which is which.
// Times are microseconds (the format's unit) from the iteration start.
#pragma once

#include <nlohmann/json.hpp>

#include "core/timeline.h"

namespace ppb {

// Either pointer may be null (not both). `context` (make_context) is stored
// under "context" when it is not null; Perfetto ignores keys it does not know.
nlohmann::json chrome_trace(const Timeline* measured, const Timeline* predicted,
                            const nlohmann::json& context = nullptr);

}  // namespace ppb
