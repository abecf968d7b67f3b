// The CUDA and NCCL double: a test library that implements, on the host, the
// part of the CUDA runtime API and of NCCL that src/backends/cuda calls, and
// the stage kernels' launch functions (kernels/stage_kernels.h). The backend's
// sources are compiled unchanged against the real headers under
// /usr/local/cuda and linked with this library instead of libcudart, libnccl
// and ppb_kernels (tests/cuda_double/CMakeLists.txt: ppbench_cuda_double).
// It is never linked into a shipped binary. It tests the backend's host
// logic (set-up, iterations, error, time-out and abort paths); it is not a GPU
// simulator, and no figure measured through it is a GPU result.
//
// What it models, and where the semantics come from:
// - Streams run their work in order on host worker threads, one per hardware
//   queue; streams are spread over the queues round robin, and the number of
//   queues is the requested CUDA_DEVICE_MAX_CONNECTIONS (8 when unset) capped
//   by PPB_CUDA_DOUBLE_QUEUES, as the driver may grant fewer than asked
//   (MPS documentation, CUDA_DEVICE_MAX_CONNECTIONS: "the number actually
//   allocated by the driver may differ from what is requested"). Streams that
//   share a queue share its order: a blocked operation holds up the other
//   streams behind it, as on a GPU.
// - Time is virtual but anchored to the host's steady clock: an operation
//   starts when its queue is free, it has been enqueued, and what it waits
//   for has completed; a kernel lasts a fixed launch cost plus its work; the
//   worker completes it no earlier than that time on the host clock. Event
//   times are those virtual times, so they do not carry the host's
//   scheduling noise (a GPU's timestamps do not either).
// - cudaEventRecord captures the stream's work so far; cudaEventQuery returns
//   cudaSuccess once it completed and for an event never recorded, else
//   cudaErrorNotReady; cudaStreamWaitEvent uses the capture at the time of the
//   call; cudaEventElapsedTime returns cudaErrorInvalidResourceHandle for an
//   event never recorded or created with cudaEventDisableTiming and
//   cudaErrorNotReady before both completed (the runtime API reference's
//   entries for these functions, in cuda_runtime_api.h).
// - Last error: every call that fails stores its error as the calling
//   thread's last error, cudaErrorNotReady from a query included (it is a
//   return value the runtime records like any other; PyTorch clears it after
//   every event and stream query for that reason);
//   cudaGetLastError returns and resets it, cudaPeekAtLastError only returns
//   it. A fault in a running kernel is sticky: cudaErrorIllegalAddress "leaves
//   the process in an inconsistent state and any further CUDA work will
//   return the same error" (driver_types.h): every later call returns it and
//   the last error no longer resets.
// - Implicit synchronisation (CUDA programming guide, "Implicit
//   Synchronization"): work issued after a device memory allocation or memset,
//   or to the legacy default stream, waits for the work issued before it on
//   the blocking streams (the legacy stream) or all streams (allocation,
//   memset); cudaStreamNonBlocking streams do not wait for the legacy stream.
//   cudaFree waits for the device to be idle. cudaMemcpy and cudaMemset are
//   synchronous.
// - A declared device (PPB_CUDA_DOUBLE_*: count, SM count, memory capacity,
//   PCI bus id shared by every rank, as under launch/one-gpu.sh, or one per
//   rank); cudaMalloc beyond the capacity fails with
//   cudaErrorMemoryAllocation. Device memory is host memory, so kernels'
//   pointers and NCCL's payloads are checked against live allocations.
// - Stage kernels take the launch functions' signatures and run as timed work
//   on their stream: spin for its nanoseconds, compute and memory at a
//   configured rate; the timestamp kernel writes the device clock, which is
//   the host's steady clock with this rank's configured offset and drift.
// - NCCL: ncclGetUniqueId opens a listening socket whose name is in the id;
//   the backend broadcasts the id over MPI (its HostComm), as with real NCCL;
//   ncclCommInitRank connects the two ranks (blocking until both are there).
//   ncclSend completes only after the peer's matching ncclRecv has started on
//   its stream: every message, whatever its size, waits for its receive
//   (rendezvous). Real NCCL may finish a send that fits its staging buffer
//   (NCCL_BUFFSIZE) before the receive is posted, so the double is the
//   stricter of the two: a design that completes here does not rely on
//   buffering. "This operation is blocking for the GPU" (NCCL API reference,
//   ncclSend/ncclRecv): the operation holds its stream's queue until done.
//   ncclGroupStart/ncclGroupEnd fuse the calls between them into one
//   operation whose sends and receives progress together ("calls within a
//   group can be seen as progressing independently", NCCL user guide,
//   Point-to-point communication). ncclCommGetAsyncError reports a failed peer
//   (its connection closed without ncclCommDestroy: ncclRemoteError) or an
//   injected error; the operation then stays blocked, as a GPU kernel waiting
//   for a dead peer does, until ncclCommAbort, which "frees resources ...
//   and aborts any operations that might still be running on the device"
//   (nccl.h) and so completes them.
//
// Where it simplifies (what it cannot show):
// - No device code runs: kernel bodies, %globaltimer, SM occupancy, clocks,
//   memory bandwidth, MPS and time-slicing are not modelled; durations are
//   what the launch asked for.
// - Sockets replace NVLink, shared memory and the network: transfer time is a
//   configured latency plus bytes over a configured bandwidth, computed from
//   the two ends' virtual start times (CLOCK_MONOTONIC is shared by every
//   process of one host, so the double only runs ranks on one host).
// - Communicators have one or two ranks (the backend's links); ncclCommInitAll
//   takes one device; a group uses one stream; NCCL never blocks the calling
//   thread inside ncclSend/ncclRecv (real NCCL may, while it connects a peer
//   lazily) unless a "stall" fault says so. Only the calls the backend, the
//   kernels' launch functions and tests/cuda make are implemented.
// - Several devices in one process share one queue set (cudaSetDevice only
//   checks the index).
// Why sockets and not MPI for NCCL's traffic: the backend talks NCCL from its
// stream workers while the runtime uses MPI on the main thread, and a
// blocked MPI call cannot be cancelled by ncclCommAbort; a socket gives the
// rendezvous (a receive-ready message before the data), wakes every waiter
// when it is shut down, and shows a peer that died as end-of-file, which is
// how NCCL's socket transport sees it.
//
// Configuration: environment variables, read once at the first call
// (double_config.h); faults: PPB_CUDA_DOUBLE_FAULTS (double_faults.h); a
// per-rank log of what ran: PPB_CUDA_DOUBLE_TRACE (double_trace.h).
#pragma once
