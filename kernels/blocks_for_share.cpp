// Plain arithmetic behind stage_kernels.h, apart from the device code so that
// the tests' CUDA double (which replaces the .cu file) shares it.
#include <cmath>

#include "stage_kernels.h"

namespace ppb::kernels {

int blocks_for_share(int sm_count, double share) {
  const int blocks = static_cast<int>(std::ceil(share * sm_count - 1e-9));
  return blocks < 1 ? 1 : blocks;
}

}  // namespace ppb::kernels
