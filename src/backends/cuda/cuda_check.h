// CUDA and NCCL error checking for the backend: every failing call becomes a
// RunError (exit 3) whose message names the call, file:line, host and rank,
// as nccl-tests' CHECK macros do. The _NOTHROW variants print instead, for
// destructors and abort paths.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

namespace ppb::cuda {

// The pipeline rank this process runs as, named in error messages. Set once by
// make_cuda_backend; a process runs exactly one rank, so one value is enough.
void set_error_rank(int rank);
// "file:line on host H, rank R"
std::string error_site(const char* file, int line);

[[noreturn]] void throw_cuda_error(cudaError_t code, const char* call, const char* file, int line);
[[noreturn]] void throw_nccl_error(ncclResult_t code, const char* call, const char* file, int line);
void print_cuda_error(cudaError_t code, const char* call, const char* file, int line) noexcept;
void print_nccl_error(ncclResult_t code, const char* call, const char* file, int line) noexcept;

// cudaEventQuery without its side effect: cudaErrorNotReady is a state, not a
// failure, but the runtime also stores it as the thread's last error, where
// it would fail the next kernel launch's check. Returns the query's result.
cudaError_t query_event(cudaEvent_t event) noexcept;
// cudaStreamQuery, with the same care.
cudaError_t query_stream(cudaStream_t stream) noexcept;

}  // namespace ppb::cuda

#define CUDA_CHECK(call)                                                                    \
  do {                                                                                      \
    const cudaError_t ppb_cuda_status_ = (call);                                            \
    if (ppb_cuda_status_ != cudaSuccess)                                                    \
      ::ppb::cuda::throw_cuda_error(ppb_cuda_status_, #call, __FILE__, __LINE__);           \
  } while (0)

#define CUDA_CHECK_NOTHROW(call)                                                            \
  do {                                                                                      \
    const cudaError_t ppb_cuda_status_ = (call);                                            \
    if (ppb_cuda_status_ != cudaSuccess)                                                    \
      ::ppb::cuda::print_cuda_error(ppb_cuda_status_, #call, __FILE__, __LINE__);           \
  } while (0)

// Kernel launchers (kernels/stage_kernels.h) return a cudaError_t value as int.
#define KERNEL_CHECK(call) CUDA_CHECK(static_cast<cudaError_t>(call))

#define NCCL_CHECK(call)                                                                    \
  do {                                                                                      \
    const ncclResult_t ppb_nccl_status_ = (call);                                           \
    if (ppb_nccl_status_ != ncclSuccess)                                                    \
      ::ppb::cuda::throw_nccl_error(ppb_nccl_status_, #call, __FILE__, __LINE__);           \
  } while (0)

#define NCCL_CHECK_NOTHROW(call)                                                            \
  do {                                                                                      \
    const ncclResult_t ppb_nccl_status_ = (call);                                           \
    if (ppb_nccl_status_ != ncclSuccess)                                                    \
      ::ppb::cuda::print_nccl_error(ppb_nccl_status_, #call, __FILE__, __LINE__);           \
  } while (0)
