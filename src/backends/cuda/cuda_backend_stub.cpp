// The CUDA backend in a build without CUDA or NCCL: the flags still parse, and
// asking for the backend says why it is not there.
#include "backends/cuda/cuda_backend.h"

#include "core/errors.h"

namespace ppb {

bool cuda_backend_built() { return false; }

bool cuda_device_available() { return false; }

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendOptions&, HostComm&) {
  PPB_THROW(InputError, "--backend cuda: this ppbench was built without CUDA and NCCL (PPB_ENABLE_CUDA)");
}

}  // namespace ppb
