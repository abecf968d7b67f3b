// The CUDA runtime calls of the backend, kernels and tests on the double's
// device (double_device.h); semantics and sources in cuda_double.h.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "double_config.h"
#include "double_device.h"
#include "double_faults.h"
#include "runtime_errors.h"

// An event: the capture of its stream at the last cudaEventRecord.
struct CUevent_st {
  bool timing = true;
  bool recorded = false;
  ppb::cuda_double::StreamPoint point;
};

namespace ppb::cuda_double {

namespace {

thread_local int current_device = 0;

// Live events (destroyed ones are kept, not reused: an operation may still
// point at them).
struct Events {
  std::mutex mutex;
  std::unordered_set<cudaEvent_t> live;
};

Events& events() {
  static Events* e = new Events;
  return *e;
}

bool live_event(cudaEvent_t e) {
  std::lock_guard<std::mutex> lock(events().mutex);
  return events().live.count(e) > 0;
}

// The event's capture, read under the events' lock (another thread may record it).
bool capture_of(cudaEvent_t e, StreamPoint* point, bool* timing = nullptr) {
  std::lock_guard<std::mutex> lock(events().mutex);
  *point = e->point;
  if (timing != nullptr) *timing = e->timing;
  return e->recorded;
}

const char* kDeviceName = "ppbench CUDA double";

}  // namespace

}  // namespace ppb::cuda_double

using ppb::cuda_double::fail;
using ppb::cuda_double::StreamPoint;
namespace dbl = ppb::cuda_double;

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return fail(cudaErrorInvalidValue);
  *count = dbl::config().devices;
  return *count == 0 ? fail(cudaErrorNoDevice) : cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= dbl::config().devices) return fail(cudaErrorInvalidDevice);
  if (const cudaError_t s = dbl::sticky_error()) return fail(s);
  dbl::current_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return fail(cudaErrorInvalidValue);
  *device = dbl::current_device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (prop == nullptr) return fail(cudaErrorInvalidValue);
  if (device < 0 || device >= dbl::config().devices) return fail(cudaErrorInvalidDevice);
  const dbl::DoubleConfig& c = dbl::config();
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof(prop->name), "%s", dbl::kDeviceName);
  prop->totalGlobalMem = c.memory_bytes;
  prop->multiProcessorCount = c.sm_count;
  prop->l2CacheSize = 50 << 20;
  prop->major = 9;
  prop->minor = 0;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->pciDomainID = 0;
  prop->pciBusID = dbl::pci_bus(device);
  prop->mpsEnabled = c.mps ? 1 : 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (value == nullptr) return fail(cudaErrorInvalidValue);
  if (device < 0 || device >= dbl::config().devices) return fail(cudaErrorInvalidDevice);
  const dbl::DoubleConfig& c = dbl::config();
  switch (attr) {
    case cudaDevAttrClockRate: *value = 1980000; return cudaSuccess;  // kHz
    case cudaDevAttrMemoryClockRate: *value = 2619000; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = c.sm_count; return cudaSuccess;
    case cudaDevAttrL2CacheSize: *value = 50 << 20; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; return cudaSuccess;
    case cudaDevAttrMpsEnabled: *value = c.mps ? 1 : 0; return cudaSuccess;
    default: return fail(cudaErrorInvalidValue);  // not modelled
  }
}

cudaError_t cudaDeviceGetPCIBusId(char* bus, int len, int device) {
  if (bus == nullptr || len <= 0) return fail(cudaErrorInvalidValue);
  if (device < 0 || device >= dbl::config().devices) return fail(cudaErrorInvalidDevice);
  std::snprintf(bus, static_cast<std::size_t>(len), "0000:%02x:00.0", dbl::pci_bus(device));
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (version == nullptr) return fail(cudaErrorInvalidValue);
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (version == nullptr) return fail(cudaErrorInvalidValue);
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaGetLastError(void) { return dbl::take_last_error(); }
cudaError_t cudaPeekAtLastError(void) { return dbl::peek_last_error(); }

cudaError_t cudaDeviceSynchronize(void) {
  if (const cudaError_t s = dbl::wait_for(dbl::all_stream_ends())) return fail(s);
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  if (stream == nullptr || (flags & ~unsigned(cudaStreamNonBlocking)) != 0) return fail(cudaErrorInvalidValue);
  if (const cudaError_t s = dbl::sticky_error()) return fail(s);
  *stream = dbl::create_stream((flags & cudaStreamNonBlocking) == 0);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  const cudaStream_t s = dbl::resolve_stream(stream);
  if (s == nullptr || stream == nullptr) return fail(cudaErrorInvalidResourceHandle);
  dbl::destroy_stream(s);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  const cudaStream_t s = dbl::resolve_stream(stream);
  if (s == nullptr) return fail(cudaErrorInvalidResourceHandle);
  if (const cudaError_t e = dbl::wait_for({dbl::stream_end(s)})) return fail(e);
  return cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  const cudaStream_t s = dbl::resolve_stream(stream);
  if (s == nullptr) return fail(cudaErrorInvalidResourceHandle);
  if (const cudaError_t e = dbl::sticky_error()) return fail(e);
  return dbl::reached(dbl::stream_end(s)) ? cudaSuccess : fail(cudaErrorNotReady);
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
  const cudaStream_t s = dbl::resolve_stream(stream);
  if (s == nullptr || !dbl::live_event(event)) return fail(cudaErrorInvalidResourceHandle);
  if (flags != 0) return fail(cudaErrorInvalidValue);
  if (const cudaError_t e = dbl::sticky_error()) return fail(e);
  StreamPoint point;
  // Never recorded: an empty capture, nothing to wait for.
  if (!dbl::capture_of(event, &point)) return cudaSuccess;
  dbl::enqueue(s, [](std::int64_t start) { return start; }, {point}, true);
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (event == nullptr || (flags & ~unsigned(cudaEventBlockingSync | cudaEventDisableTiming)) != 0) {
    return fail(cudaErrorInvalidValue);
  }
  if (const cudaError_t s = dbl::sticky_error()) return fail(s);
  auto* e = new CUevent_st;
  e->timing = (flags & cudaEventDisableTiming) == 0;
  std::lock_guard<std::mutex> lock(dbl::events().mutex);
  dbl::events().live.insert(e);
  *event = e;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(dbl::events().mutex);
  if (dbl::events().live.erase(event) == 0) return fail(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  const cudaStream_t s = dbl::resolve_stream(stream);
  if (s == nullptr || !dbl::live_event(event)) return fail(cudaErrorInvalidResourceHandle);
  if (const cudaError_t e = dbl::sticky_error()) return fail(e);
  const StreamPoint point = dbl::enqueue(s, [](std::int64_t start) { return start; }, {}, true);
  std::lock_guard<std::mutex> lock(dbl::events().mutex);
  event->recorded = true;
  event->point = point;
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!dbl::live_event(event)) return fail(cudaErrorInvalidResourceHandle);
  if (const cudaError_t e = dbl::sticky_error()) return fail(e);
  StreamPoint point;
  if (!dbl::capture_of(event, &point)) return cudaSuccess;  // an empty capture has completed
  return dbl::reached(point) ? cudaSuccess : fail(cudaErrorNotReady);
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!dbl::live_event(event)) return fail(cudaErrorInvalidResourceHandle);
  StreamPoint point;
  if (!dbl::capture_of(event, &point)) return cudaSuccess;
  if (const cudaError_t e = dbl::wait_for({point})) return fail(e);
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (ms == nullptr) return fail(cudaErrorInvalidValue);
  if (!dbl::live_event(start) || !dbl::live_event(end)) return fail(cudaErrorInvalidResourceHandle);
  if (const cudaError_t e = dbl::sticky_error()) return fail(e);
  StreamPoint a, b;
  bool timing_a = true, timing_b = true;
  const bool recorded_a = dbl::capture_of(start, &a, &timing_a), recorded_b = dbl::capture_of(end, &b, &timing_b);
  if (!recorded_a || !recorded_b || !timing_a || !timing_b) return fail(cudaErrorInvalidResourceHandle);
  if (!dbl::reached(a) || !dbl::reached(b)) return fail(cudaErrorNotReady);
  const std::int64_t device_ns =
      dbl::device_clock_ns(dbl::reached_at(b)) - dbl::device_clock_ns(dbl::reached_at(a));
  *ms = static_cast<float>(static_cast<double>(device_ns) / 1e6);
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** pointer, size_t bytes) {
  if (pointer == nullptr) return fail(cudaErrorInvalidValue);
  if (const cudaError_t s = dbl::sticky_error()) return fail(s);
  if (dbl::take_fault(dbl::FaultTarget::Malloc, bytes) == dbl::FaultAction::Error) {
    return fail(cudaErrorMemoryAllocation);
  }
  if (const cudaError_t e = dbl::allocate(pointer, bytes)) return fail(e);
  return cudaSuccess;
}

cudaError_t cudaFree(void* pointer) {
  if (const cudaError_t s = dbl::sticky_error()) return fail(s);
  if (const cudaError_t e = dbl::release(pointer)) return fail(e);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  if (free == nullptr || total == nullptr) return fail(cudaErrorInvalidValue);
  if (const cudaError_t s = dbl::sticky_error()) return fail(s);
  *total = dbl::config().memory_bytes;
  *free = *total - std::min<std::uint64_t>(*total, dbl::allocated_bytes());
  return cudaSuccess;
}

// Synchronous, on the legacy stream (its implicit synchronisation included).
cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  if (const cudaError_t s = dbl::sticky_error()) return fail(s);
  const bool dst_device = dbl::is_device_range(dst, count), src_device = dbl::is_device_range(src, count);
  bool ok = false;
  switch (kind) {
    case cudaMemcpyHostToHost: ok = true; break;
    case cudaMemcpyHostToDevice: ok = dst_device; break;
    case cudaMemcpyDeviceToHost: ok = src_device; break;
    case cudaMemcpyDeviceToDevice: ok = dst_device && src_device; break;
    case cudaMemcpyDefault: ok = true; break;
    default: return fail(cudaErrorInvalidMemcpyDirection);
  }
  if (!ok) return fail(cudaErrorInvalidValue);
  if (count == 0) return cudaSuccess;
  const StreamPoint done = dbl::enqueue(dbl::resolve_stream(nullptr), [=](std::int64_t start) {
    std::memcpy(dst, src, count);
    return start;
  });
  if (const cudaError_t e = dbl::wait_for({done})) return fail(e);
  return cudaSuccess;
}

cudaError_t cudaMemset(void* pointer, int value, size_t count) {
  if (const cudaError_t s = dbl::sticky_error()) return fail(s);
  if (!dbl::is_device_range(pointer, count)) return fail(cudaErrorInvalidValue);
  dbl::device_barrier();
  const StreamPoint done = dbl::enqueue(dbl::resolve_stream(nullptr), [=](std::int64_t start) {
    std::memset(pointer, value, count);
    return start;
  });
  if (const cudaError_t e = dbl::wait_for({done})) return fail(e);
  return cudaSuccess;
}

const char* cudaGetErrorName(cudaError_t error) { return dbl::error_name(error); }
const char* cudaGetErrorString(cudaError_t error) { return dbl::error_text(error); }

}  // extern "C"
