// Megatron-LM's interleaved 1F1B ("virtual pipeline"; Narayanan et al., SC'21).
#include <algorithm>
#include <utility>

#include "core/errors.h"
#include "schedules/generators.h"

namespace ppb {

Schedule make_interleaved(int num_ranks, int num_microbatches, int chunks) {
  PPB_REQUIRE_INPUT(chunks >= 2, "--chunks: interleaved needs at least 2 chunks per rank (got ", chunks, ")");
  PPB_REQUIRE_INPUT(num_microbatches % num_ranks == 0, "--num-batches: interleaved needs the microbatch count (",
                    num_microbatches, ") to be a multiple of the stage count (", num_ranks, ")");
  Schedule s;
  s.name = "interleaved";
  s.generator = "interleaved";
  s.num_ranks = num_ranks;
  s.num_microbatches = num_microbatches;
  s.chunks = chunks;
  s.stage_rank = interleaved_placement(num_ranks, chunks);
  s.ops.resize(static_cast<std::size_t>(num_ranks));

  // Forward order: microbatches in groups of P; within a group, all of chunk 0,
  // then all of chunk 1, ... Entries are (microbatch, chunk).
  std::vector<std::pair<int, int>> table;
  table.reserve(static_cast<std::size_t>(num_microbatches) * chunks);
  for (int group = 0; group < num_microbatches; group += num_ranks) {
    for (int c = 0; c < chunks; ++c) {
      for (int m = group; m < group + num_ranks; ++m) table.emplace_back(m, c);
    }
  }
  const int total = static_cast<int>(table.size());
  for (int r = 0; r < num_ranks; ++r) {
    auto forward = [&](int k) {
      return Op{OpKind::F, table[static_cast<std::size_t>(k)].second * num_ranks + r, table[static_cast<std::size_t>(k)].first};
    };
    // The k-th backward walks the same table with the chunks reversed.
    auto backward = [&](int k) {
      const int chunk = chunks - 1 - table[static_cast<std::size_t>(k)].second;
      return Op{OpKind::B, chunk * num_ranks + r, table[static_cast<std::size_t>(k)].first};
    };
    auto& list = s.ops[static_cast<std::size_t>(r)];
    list.reserve(2 * static_cast<std::size_t>(total));
    const int warmup = std::min(2 * (num_ranks - r - 1) + (chunks - 1) * num_ranks, total);
    for (int k = 0; k < warmup; ++k) list.push_back(forward(k));
    for (int k = 0; k + warmup < total; ++k) {
      list.push_back(forward(k + warmup));
      list.push_back(backward(k));
    }
    for (int k = total - warmup; k < total; ++k) list.push_back(backward(k));
  }
  return s;
}

}  // namespace ppb
