#include "runtime_errors.h"

#include "double_device.h"

namespace ppb::cuda_double {

namespace {

thread_local cudaError_t last_error = cudaSuccess;

struct ErrorInfo {
  cudaError_t code;
  const char* name;
  const char* text;
};

// The codes the double returns, described in its own words.
constexpr ErrorInfo kErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "an argument is out of range"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of device memory"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid launch configuration"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection", "invalid copy direction"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress", "an illegal memory access was encountered"},
    {cudaErrorLaunchOutOfResources, "cudaErrorLaunchOutOfResources", "too many resources requested for launch"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
};

const ErrorInfo* find(cudaError_t error) {
  for (const ErrorInfo& e : kErrors) {
    if (e.code == error) return &e;
  }
  return nullptr;
}

}  // namespace

cudaError_t fail(cudaError_t error) {
  if (error != cudaSuccess) last_error = error;
  return error;
}

cudaError_t take_last_error() {
  const cudaError_t sticky = sticky_error();
  const cudaError_t e = last_error != cudaSuccess ? last_error : sticky;
  last_error = sticky;
  return e;
}

cudaError_t peek_last_error() {
  return last_error != cudaSuccess ? last_error : sticky_error();
}

const char* error_name(cudaError_t error) {
  const ErrorInfo* e = find(error);
  return e != nullptr ? e->name : "cudaErrorUnknown";
}

const char* error_text(cudaError_t error) {
  const ErrorInfo* e = find(error);
  return e != nullptr ? e->text : "unknown error";
}

}  // namespace ppb::cuda_double
