// GPipe, 1F1B and ZB-H1: one stage per rank.
#include <algorithm>

#include "schedules/generators.h"

namespace ppb {
namespace {

Schedule plain_schedule(const char* name, int num_ranks, int num_microbatches, bool split_backward) {
  Schedule s;
  s.name = name;
  s.generator = name;
  s.num_ranks = num_ranks;
  s.num_microbatches = num_microbatches;
  s.chunks = 1;
  s.split_backward = split_backward;
  s.stage_rank = plain_placement(num_ranks);
  s.ops.resize(static_cast<std::size_t>(num_ranks));
  return s;
}

}  // namespace

Schedule make_gpipe(int num_ranks, int num_microbatches) {
  Schedule s = plain_schedule("gpipe", num_ranks, num_microbatches, false);
  for (int r = 0; r < num_ranks; ++r) {
    auto& list = s.ops[static_cast<std::size_t>(r)];
    list.reserve(2 * static_cast<std::size_t>(num_microbatches));
    for (int m = 0; m < num_microbatches; ++m) list.push_back({OpKind::F, r, m});
    for (int m = 0; m < num_microbatches; ++m) list.push_back({OpKind::B, r, m});
  }
  return s;
}

Schedule make_1f1b(int num_ranks, int num_microbatches) {
  Schedule s = plain_schedule("1f1b", num_ranks, num_microbatches, false);
  for (int r = 0; r < num_ranks; ++r) {
    auto& list = s.ops[static_cast<std::size_t>(r)];
    list.reserve(2 * static_cast<std::size_t>(num_microbatches));
    const int warmup = std::min(num_ranks - r - 1, num_microbatches);
    for (int m = 0; m < warmup; ++m) list.push_back({OpKind::F, r, m});
    for (int i = 0; i < num_microbatches - warmup; ++i) {
      list.push_back({OpKind::F, r, warmup + i});
      list.push_back({OpKind::B, r, i});
    }
    for (int m = num_microbatches - warmup; m < num_microbatches; ++m) list.push_back({OpKind::B, r, m});
  }
  return s;
}

Schedule make_zb_h1(int num_ranks, int num_microbatches) {
  Schedule s = plain_schedule("zb-h1", num_ranks, num_microbatches, true);
  for (int r = 0; r < num_ranks; ++r) {
    auto& list = s.ops[static_cast<std::size_t>(r)];
    list.reserve(3 * static_cast<std::size_t>(num_microbatches));
    const int warmup = std::min(num_ranks - r - 1, num_microbatches);
    for (int m = 0; m < warmup; ++m) list.push_back({OpKind::F, r, m});
    int next_w = 0;  // oldest microbatch whose W has not been scheduled
    for (int i = 0; i < num_microbatches; ++i) {
      if (warmup + i < num_microbatches) list.push_back({OpKind::F, r, warmup + i});
      list.push_back({OpKind::B, r, i});
      // Rank r holds its W's back r steps: that delay is what fills the
      // cool-down bubble of the ranks nearer the start of the pipeline.
      if (i >= r) list.push_back({OpKind::W, r, next_w++});
    }
    while (next_w < num_microbatches) list.push_back({OpKind::W, r, next_w++});
  }
  return s;
}

}  // namespace ppb
