#include <algorithm>

#include "core/errors.h"
#include "schedules/generators.h"

namespace ppb {

const std::vector<std::string>& generator_names() {
  static const std::vector<std::string> names{"gpipe", "1f1b", "interleaved", "zb-h1"};
  return names;
}

bool schedule_is_generated(const std::string& name) {
  const auto& names = generator_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void require_generated_schedule(const std::string& name) {
  PPB_REQUIRE_INPUT(schedule_is_generated(name), "--schedule: unknown schedule '", name,
                    "' (expected gpipe, 1f1b, interleaved or zb-h1)");
}

Schedule generate_schedule(const std::string& name, int num_ranks, int num_microbatches, int chunks) {
  PPB_REQUIRE_INPUT(num_ranks > 0, "--num-stages: must be a positive integer (got ", num_ranks, ")");
  PPB_REQUIRE_INPUT(num_microbatches > 0, "--num-batches: must be a positive integer (got ", num_microbatches, ")");
  if (name == "gpipe") return make_gpipe(num_ranks, num_microbatches);
  if (name == "1f1b") return make_1f1b(num_ranks, num_microbatches);
  if (name == "interleaved") return make_interleaved(num_ranks, num_microbatches, chunks);
  require_generated_schedule(name);
  return make_zb_h1(num_ranks, num_microbatches);
}

}  // namespace ppb
