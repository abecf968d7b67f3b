#include "runtime/backend_factory.h"

#include "core/errors.h"

// ---------------------------------------------------------------------------
// CUDA BACKEND PLUG-IN POINT (the only place to change when merging it):
//   1. #include "backends/cuda/cuda_backend.h" under PPB_HAVE_CUDA_BACKEND;
//   2. have cuda_backend_built() return true there;
//   3. in cuda_or_null() return make_cuda_backend(options, comm) when a GPU is
//      visible (and set `reason`), nullptr with the reason otherwise;
//   4. define PPB_HAVE_CUDA_BACKEND for ppb_runtime in src/runtime/CMakeLists.txt.
// ---------------------------------------------------------------------------
#if defined(PPB_HAVE_CUDA_BACKEND)
#error "plug make_cuda_backend(options, HostComm&) in here (see the comment above)"
#endif

namespace ppb {

namespace {

std::unique_ptr<Backend> cuda_or_null(const BackendOptions&, HostComm&, std::string& reason) {
  reason = "no CUDA backend built";
  return nullptr;
}

}  // namespace

bool cuda_backend_built() { return false; }

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
    if (selection.backend) return selection;
  } else {
    PPB_REQUIRE_INPUT(options.choice == "cpu", "--backend: unknown backend '", options.choice,
                      "' (expected auto, cpu or cuda)");
    selection.reason = "requested";
  }
  selection.backend = make_cpu_backend(options.cpu);
  return selection;
}

}  // namespace ppb
