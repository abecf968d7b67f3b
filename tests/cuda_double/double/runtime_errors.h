// The CUDA runtime's error bookkeeping in the double: the calling thread's
// last error, the sticky error of a faulted device, and the names and texts
// of the codes the double returns.
#pragma once

#include <cuda_runtime.h>

namespace ppb::cuda_double {

// Records `error` as the calling thread's last error and returns it: every
// failing call goes through here (cudaErrorNotReady from a query too).
cudaError_t fail(cudaError_t error);
// cudaGetLastError: the last error, reset to cudaSuccess, except that a
// sticky error stays (and is returned even when nothing failed since).
cudaError_t take_last_error();
// cudaPeekAtLastError: the same without the reset.
cudaError_t peek_last_error();

const char* error_name(cudaError_t error);
const char* error_text(cudaError_t error);

}  // namespace ppb::cuda_double
