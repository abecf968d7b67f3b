#include "backends/cuda/cuda_check.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "core/errors.h"

namespace ppb::cuda {
namespace {
std::atomic<int> g_error_rank{-1};

std::string host_name() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
  return name;
}

std::string rank_text() {
  const int r = g_error_rank.load();
  return r < 0 ? std::string("?") : std::to_string(r);
}
}  // namespace

void set_error_rank(int rank) { g_error_rank.store(rank); }

std::string error_site(const char* file, int line) {
  return detail::concat(file, ":", line, " on host ", host_name(), ", rank ", rank_text());
}

void throw_cuda_error(cudaError_t code, const char* call, const char* file, int line) {
  throw RunError(detail::concat("CUDA error at ", error_site(file, line), ": ", call, ": ", cudaGetErrorName(code),
                                " (", cudaGetErrorString(code), ")"),
                 detail::where(file, line));
}

void throw_nccl_error(ncclResult_t code, const char* call, const char* file, int line) {
  const char* last = ncclGetLastError(nullptr);
  throw RunError(detail::concat("NCCL error at ", error_site(file, line), ": ", call, ": ", ncclGetErrorString(code),
                                last != nullptr && *last != '\0' ? std::string(" (") + last + ")" : std::string()),
                 detail::where(file, line));
}

cudaError_t query_event(cudaEvent_t event) noexcept {
  const cudaError_t state = cudaEventQuery(event);
  if (state == cudaErrorNotReady) (void)cudaGetLastError();
  return state;
}

cudaError_t query_stream(cudaStream_t stream) noexcept {
  const cudaError_t state = cudaStreamQuery(stream);
  if (state == cudaErrorNotReady) (void)cudaGetLastError();
  return state;
}

void print_cuda_error(cudaError_t code, const char* call, const char* file, int line) noexcept {
  try {
    std::fprintf(stderr, "ppbench: CUDA error at %s: %s: %s\n", error_site(file, line).c_str(), call,
                 cudaGetErrorString(code));
  } catch (...) {
  }
}

void print_nccl_error(ncclResult_t code, const char* call, const char* file, int line) noexcept {
  try {
    std::fprintf(stderr, "ppbench: NCCL error at %s: %s: %s\n", error_site(file, line).c_str(), call,
                 ncclGetErrorString(code));
  } catch (...) {
  }
}

}  // namespace ppb::cuda
