#include "runtime/backend_factory.h"

#include "backends/cuda/cuda_backend.h"
#include "core/errors.h"

namespace ppb {

namespace {

// The CUDA backend where it is built and every rank sees a GPU; otherwise
// nullptr and why. Collective: every rank must call it (the device check is
// agreed over `comm`, and make_cuda_backend is collective itself).
std::unique_ptr<Backend> cuda_or_null(const BackendOptions& options, HostComm& comm, std::string& reason) {
  if (!cuda_backend_built()) {
    reason = "no CUDA backend built";
    return nullptr;
  }
  // One rank without a GPU makes the whole job CPU: mixed backends could not
  // talk to each other (MPI messages on one side, NCCL on the other).
  if (comm.any(!cuda_device_available())) {
    reason = "no GPU visible on every rank";
    return nullptr;
  }
  return make_cuda_backend(options.cuda, comm);
}

}  // namespace

BackendSelection make_backend(const BackendOptions& options, HostComm& comm) {
  BackendSelection selection;
  if (options.choice == "cuda") {
    PPB_REQUIRE_INPUT(cuda_backend_built(), "--backend cuda: this ppbench was built without the CUDA backend");
    selection.backend = cuda_or_null(options, comm, selection.reason);
    PPB_REQUIRE_INPUT(selection.backend != nullptr, "--backend cuda: ", selection.reason);
    selection.reason = "requested";
    return selection;
  }
  if (options.choice == "auto") {
    selection.backend = cuda_or_null(options, comm, selection.reason);
    if (selection.backend) {
      selection.reason = "auto: a GPU on every rank";
      return selection;
    }
    selection.reason = "auto: " + selection.reason;
  } else {
    PPB_REQUIRE_INPUT(options.choice == "cpu", "--backend: unknown backend '", options.choice,
                      "' (expected auto, cpu or cuda)");
    selection.reason = "requested";
  }
  selection.backend = make_cpu_backend(options.cpu);
  return selection;
}

}  // namespace ppb
