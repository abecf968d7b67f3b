// Synthetic stage work for the CUDA backend, behind host launch functions.
// Everything with <<<>>> lives in kernels/; callers pass a stream and get an
// error code back (a cudaError_t value: 0 is success), so this header needs no
// CUDA include and the backend's plain C++ files can call it.
#pragma once

#include <cstddef>
#include <cstdint>

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace ppb::kernels {

using Stream = CUstream_st*;

// Blocks for a share of the SMs: ceil(share * sm_count), at least 1.
int blocks_for_share(int sm_count, double share);

// Spins until `ns` nanoseconds of the GPU global timer (%globaltimer) have
// passed since each block started; the duration is exact up to the timer's
// granularity and launch skew. One warp per block.
int launch_spin(Stream stream, std::uint64_t ns, int blocks);

// Compute bound: each thread runs `iterations` steps of independent FMA
// chains (8 per step). The result goes to `sink` (one float per block) so the
// compiler cannot drop the work. 512 threads per block.
int launch_compute(Stream stream, std::uint64_t iterations, int blocks, float* sink);

// Memory bound: streams `bytes` from `src` to `dst` (16-byte words, grid-
// stride), wrapping around buffers of `buffer_bytes` (a multiple of 16) as many
// times as needed. 1024 threads per block.
int launch_memory(Stream stream, std::uint64_t bytes, int blocks, void* dst, const void* src,
                  std::size_t buffer_bytes);

// Writes %globaltimer (ns) into *out (device memory) when the kernel runs:
// used to put GPU clocks of several ranks on a common base.
int launch_timestamp(Stream stream, std::uint64_t* out);

}  // namespace ppb::kernels
