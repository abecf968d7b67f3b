// The MPI side of a ppbench run, behind a header without MPI types: init and
// finalize (RAII), rank and size, the node-local rank (MPI_Comm_split_type), the
// HostComm collectives, the clock offsets of every rank, gathering iteration
// records to rank 0, and MPI_Abort. MPI is initialised with
// MPI_THREAD_MULTIPLE because the watchdog thread may call abort() while the
// main thread is inside MPI.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "runtime/backend.h"
#include "runtime/host_comm.h"
#include "runtime/measured_timeline.h"

namespace ppb {

class MpiWorld final : public HostComm {
 public:
  MpiWorld(int* argc, char*** argv);
  ~MpiWorld() override;  // MPI_Finalize
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  void barrier() override;
  void broadcast(void* data, std::size_t bytes, int root) override;
  void allgather(const void* mine, std::size_t bytes, void* all) override;
  bool any(bool mine) override;
  long long max(long long mine) override;

  // Stops every rank of the job: MPI_Abort(MPI_COMM_WORLD, code). Thread-safe.
  [[noreturn]] static void abort(int code) noexcept;

  std::string mpi_version() const;        // first line of MPI_Get_library_version
  std::vector<std::string> host_names();  // collective: distinct processor names, by first rank
  bool thread_multiple() const { return thread_multiple_; }

  // Collective. Ping-pong between rank 0 and each other rank (`rounds` rounds,
  // after a barrier), on the clock `now_us`; every rank gets every rank's offset
  // (rank 0's is 0).
  std::vector<ClockOffset> clock_offsets(const std::function<double()>& now_us, int rounds);

  // Collective: rank 0 gets every rank's record (by rank); others get {}.
  std::vector<RankIterationRecord> gather_records(const RankIterationRecord& mine);

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool thread_multiple_ = false;
};

}  // namespace ppb
