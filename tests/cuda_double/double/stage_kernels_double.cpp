// kernels/stage_kernels.h on the double: each launch is timed work on its
// stream (the configured launch cost plus the work), and returns what
// cudaGetLastError returns right after a launch: the launch's own error, or
// else whatever error the thread had left behind (a faulted device: its
// sticky error). The real launch functions clear a stale error first; these
// do not, so that a backend which leaves one behind (cudaErrorNotReady from a
// query it did not clear) fails here rather than passing on the kernels' care.
#include "stage_kernels.h"

#include <cuda_runtime.h>

#include <climits>
#include <cstring>
#include <string>

#include "double_config.h"
#include "double_device.h"
#include "double_faults.h"
#include "double_trace.h"
#include "runtime_errors.h"

namespace ppb::kernels {

namespace {

namespace dbl = ppb::cuda_double;

// `work_ns`: the kernel's work on the device clock; `at_start` runs when the
// kernel starts (the timestamp kernel writes the clock there).
int launch(Stream handle, int blocks, double work_ns, const char* name,
           std::function<void(std::int64_t start)> at_start = {}) {
  // A launch that fails sets the last error, which the launch function's
  // cudaGetLastError then returns (and resets).
  const auto refused = [](cudaError_t error) {
    dbl::fail(error);
    return static_cast<int>(dbl::take_last_error());
  };
  if (const cudaError_t s = dbl::sticky_error()) return refused(s);
  const cudaStream_t stream = dbl::resolve_stream(handle);
  if (stream == nullptr) return refused(cudaErrorInvalidResourceHandle);
  if (blocks < 1) return refused(cudaErrorInvalidConfiguration);
  std::string rule;
  const dbl::FaultAction fault =
      dbl::take_fault(dbl::FaultTarget::Kernel, static_cast<std::uint64_t>(work_ns), &rule);
  if (fault == dbl::FaultAction::Error) return refused(cudaErrorLaunchOutOfResources);
  const double total_ns = dbl::config().launch_us * 1e3 + work_ns;
  const int id = dbl::stream_id(stream), queue = dbl::stream_queue(stream);
  dbl::enqueue(stream, [=](std::int64_t start) -> std::int64_t {
    switch (fault) {
      case dbl::FaultAction::Hang:
        dbl::block_forever();
      case dbl::FaultAction::Die:
        dbl::die_now(std::string(name) + " kernel (" + rule + ")");
      case dbl::FaultAction::Fault:
        dbl::set_sticky_error(cudaErrorIllegalAddress);
        return start;  // the worker stops: a faulted device runs nothing more
      default:
        break;
    }
    if (at_start) at_start(start);
    const std::int64_t end = start + dbl::host_duration_ns(total_ns);
    if (dbl::tracing()) {
      dbl::trace_line(std::string("{\"op\":\"kernel\",\"kernel\":\"") + name + "\",\"stream\":" + std::to_string(id) +
                      ",\"queue\":" + std::to_string(queue) + ",\"work_us\":" + std::to_string(work_ns / 1e3) +
                      ",\"start_us\":" + std::to_string(start / 1e3) + ",\"end_us\":" + std::to_string(end / 1e3) + "}");
    }
    return end;
  });
  return static_cast<int>(dbl::take_last_error());  // launched: a stale error is still reported
}

}  // namespace

int launch_spin(Stream stream, std::uint64_t ns, int blocks) {
  return launch(stream, blocks, static_cast<double>(ns), "spin");
}

int launch_compute(Stream stream, std::uint64_t iterations, int blocks, float* sink) {
  if (!dbl::is_device_range(sink, sizeof(float) * static_cast<std::size_t>(blocks < 1 ? 1 : blocks))) {
    return dbl::fail(cudaErrorInvalidValue);
  }
  return launch(stream, blocks, 1e3 * static_cast<double>(iterations) / dbl::config().compute_steps_per_us, "compute");
}

int launch_memory(Stream stream, std::uint64_t bytes, int blocks, void* dst, const void* src,
                  std::size_t buffer_bytes) {
  if (buffer_bytes < 16 || !dbl::is_device_range(dst, buffer_bytes) || !dbl::is_device_range(src, buffer_bytes)) {
    return dbl::fail(cudaErrorInvalidValue);
  }
  return launch(stream, blocks, 1e3 * static_cast<double>(bytes) / dbl::config().memory_bytes_per_us, "memory");
}

int launch_timestamp(Stream stream, std::uint64_t* out) {
  if (!dbl::is_device_range(out, sizeof(*out))) return dbl::fail(cudaErrorInvalidValue);
  return launch(stream, 1, 0, "timestamp", [out](std::int64_t start) {
    const auto ns = static_cast<std::uint64_t>(dbl::device_clock_ns(start));
    std::memcpy(out, &ns, sizeof(ns));
  });
}

}  // namespace ppb::kernels
