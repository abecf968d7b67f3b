// Schedule generators. Each returns a validated-by-construction Schedule for P
// ranks and M microbatches; the op orders are the contract stated in the
// project's issue #2 and docs/schedules.md.
#pragma once

#include <string>
#include <vector>

#include "core/schedule.h"

namespace ppb {

Schedule make_gpipe(int num_ranks, int num_microbatches);
Schedule make_1f1b(int num_ranks, int num_microbatches);
// Megatron's virtual pipeline with `chunks` >= 2 stages per rank; M must be a
// multiple of P.
Schedule make_interleaved(int num_ranks, int num_microbatches, int chunks);
// Zero bubble H1 (Qi et al., "Zero Bubble Pipeline Parallelism", ICLR 2024):
// backward split into B (input gradient) and W (weight gradient).
Schedule make_zb_h1(int num_ranks, int num_microbatches);

// By name: "gpipe", "1f1b", "interleaved", "zb-h1". Throws InputError naming
// --schedule or --chunks (the flags the values come from) on bad input.
Schedule generate_schedule(const std::string& name, int num_ranks, int num_microbatches, int chunks);
const std::vector<std::string>& generator_names();
bool schedule_is_generated(const std::string& name);
// Throws InputError naming --schedule when `name` is not a generator's.
void require_generated_schedule(const std::string& name);

}  // namespace ppb
