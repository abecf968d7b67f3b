// Small facts about a timeline that every renderer draws the same way.
#pragma once

#include <string>

#include "core/timeline.h"

namespace ppb {

// The latest op end over all ranks (the right edge of a drawing).
double timeline_end_us(const Timeline& timeline);

// The stages a rank holds, comma-separated ("1" or "1,5"), and how many.
std::string stages_of_rank(const Timeline& timeline, int rank, int* count = nullptr);

}  // namespace ppb
