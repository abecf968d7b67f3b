// Host-side collectives over the pipeline's ranks, for code outside the runtime
// that must agree with the other ranks (the CUDA backend broadcasts its NCCL
// unique id and picks GPUs by node-local rank). The runtime implements it over
// MPI; nothing here names an MPI type, so the CUDA backend never includes MPI.
#pragma once

#include <cstddef>

namespace ppb {

class HostComm {
 public:
  virtual ~HostComm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int local_rank() const = 0;  // rank among the processes on this host
  virtual int local_size() const = 0;
  virtual void barrier() = 0;
  // `bytes` from root's `data` into every rank's `data`.
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  // Each rank's `bytes` from `mine` into `all` (size() * bytes), by rank.
  virtual void allgather(const void* mine, std::size_t bytes, void* all) = 0;
  // Logical OR / integer MAX over ranks (used to agree on a backend or a failure).
  virtual bool any(bool mine) = 0;
  virtual long long max(long long mine) = 0;
};

}  // namespace ppb
