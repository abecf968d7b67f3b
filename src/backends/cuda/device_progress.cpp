#include "backends/cuda/device_progress.h"

#include <set>

namespace ppb::cuda {

namespace {

// Per peer, the first transfer not done, in order; and how many are not done.
void describe_pending(const std::vector<DeviceProgress::TransferState>& transfers, const char* what,
                      const char* direction, std::string& text) {
  std::size_t pending = 0;
  for (const auto& t : transfers) pending += t.done ? 0 : 1;
  if (pending == 0) return;
  std::set<int> named;
  for (const auto& t : transfers) {
    if (t.done || !named.insert(t.peer_rank).second) continue;
    if (!text.empty()) text += "; ";
    text += std::string(what) + " of " + describe(t.producer) + " " + direction + " rank " +
            std::to_string(t.peer_rank) + " pending";
  }
  text += " (" + std::to_string(pending) + " of " + std::to_string(transfers.size()) + " " + what + "s)";
}

}  // namespace

std::string describe_device_progress(const DeviceProgress& progress) {
  std::string text;
  for (std::size_t i = 0; i < progress.ops.size(); ++i) {
    const DeviceProgress::OpState& o = progress.ops[i];
    if (o.ended) continue;
    text = std::string("compute stream ") + (o.started ? "in " : "before ") + describe(o.op);
    if (i > 0) text += " (after " + describe(progress.ops[i - 1].op) + ")";
    break;
  }
  describe_pending(progress.receives, "receive", "from", text);
  describe_pending(progress.sends, "send", "to", text);
  return text.empty() ? "device idle: everything enqueued has completed" : text;
}

}  // namespace ppb::cuda
