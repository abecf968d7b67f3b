// --backend auto|cpu|cuda: picks and builds the backend for this rank.
// auto takes cuda only where the CUDA backend is built and a GPU is visible,
// otherwise cpu, and says why (the first line of ppbench's output).
#pragma once

#include <memory>
#include <string>

#include "backends/cuda/cuda_options.h"
#include "runtime/backend.h"
#include "runtime/cpu_backend.h"
#include "runtime/host_comm.h"

namespace ppb {

struct BackendOptions {
  std::string choice = "auto";  // auto, cpu or cuda (checked by the flag parser)
  CpuBackendOptions cpu;
  CudaBackendOptions cuda;
};

struct BackendSelection {
  std::unique_ptr<Backend> backend;
  std::string reason;  // "no CUDA backend built", "requested", "no GPU visible", ...
};

// Collective over `comm` when a backend needs it (the CUDA backend shares its
// NCCL id). Throws InputError naming --backend when the choice cannot be met.
BackendSelection make_backend(const BackendOptions& options, HostComm& comm);

}  // namespace ppb
