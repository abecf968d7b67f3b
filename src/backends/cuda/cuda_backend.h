// The CUDA + NCCL backend: stage kernels on a compute stream, activations and
// gradients over NCCL point-to-point on one communicator and stream per link,
// CUDA events around everything, one synchronisation per iteration.
// No CUDA header here: the runtime includes this in every build; without CUDA
// the library is a stub whose make_cuda_backend refuses with a bad-input error.
// Design and deadlock-freedom argument: docs/gpu.md.
#pragma once

#include <memory>

#include "backends/cuda/cuda_options.h"
#include "runtime/backend.h"
#include "runtime/host_comm.h"

namespace ppb {

// Environment defaults the CUDA backend needs, set (without overriding the
// user's) before anything can initialise CUDA: call first thing in main,
// before MPI_Init (a CUDA-aware MPI may initialise CUDA there).
// CUDA_DEVICE_MAX_CONNECTIONS=32: the compute stream, one stream per link and
// NCCL's internal streams must not share hardware queues (8 by default), or a
// blocked cross-stream wait could serialise streams the deadlock-freedom
// argument treats as independent (docs/gpu.md).
// NCCL_LAUNCH_ORDER_IMPLICIT=0, always (the user's value is overridden): the
// links must stay independent of each other's launch order. Harmless without
// CUDA.
void set_cuda_environment_defaults();

// Whether this program was linked with the CUDA backend (false: the stub).
bool cuda_backend_built();

// True when CUDA was built and cudaGetDeviceCount finds at least one device.
// Never throws; local to this process (agree across ranks with HostComm::any).
bool cuda_device_available();

// Collective over all ranks of `comm`: each rank takes GPU local_rank %
// device count. prepare() is collective as well (it creates the NCCL
// communicators of the plan's links). Throws RunError (message names host and
// rank) when a rank has no device or CUDA fails, InputError on bad options.
std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions& options, HostComm& comm);

}  // namespace ppb
