#include "runtime/mpi_world.h"

#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"
#include "runtime/mpi_check.h"

namespace ppb {

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  PPB_THROW(RunError, call, " failed: ", std::string(text, static_cast<std::size_t>(length)));
}

namespace {

constexpr int kPingTag = 32000;  // below the MPI-guaranteed tag bound; world comm only

}  // namespace

MpiWorld::MpiWorld(int* argc, char*** argv) {
  int provided = 0;
  check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
  thread_multiple_ = provided >= MPI_THREAD_MULTIPLE;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local;
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local),
        "MPI_Comm_split_type");
  MPI_Comm_rank(local, &local_rank_);
  MPI_Comm_size(local, &local_size_);
  MPI_Comm_free(&local);
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

void MpiWorld::barrier() { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

void MpiWorld::broadcast(void* data, std::size_t bytes, int root) {
  check_mpi(MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
}

void MpiWorld::allgather(const void* mine, std::size_t bytes, void* all) {
  check_mpi(MPI_Allgather(mine, static_cast<int>(bytes), MPI_BYTE, all, static_cast<int>(bytes), MPI_BYTE, MPI_COMM_WORLD),
        "MPI_Allgather");
}

bool MpiWorld::any(bool mine) {
  int in = mine ? 1 : 0, out = 0;
  check_mpi(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD), "MPI_Allreduce");
  return out != 0;
}

long long MpiWorld::max(long long mine) {
  long long out = 0;
  check_mpi(MPI_Allreduce(&mine, &out, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

void MpiWorld::abort(int code) noexcept {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

std::string MpiWorld::mpi_version() const {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, static_cast<std::size_t>(length));
  const auto cut = version.find_first_of(",\n");
  return version.substr(0, cut);
}

std::vector<std::string> MpiWorld::host_names() {
  char name[MPI_MAX_PROCESSOR_NAME] = {0};
  int length = 0;
  MPI_Get_processor_name(name, &length);
  std::vector<char> all(static_cast<std::size_t>(size_) * MPI_MAX_PROCESSOR_NAME);
  allgather(name, MPI_MAX_PROCESSOR_NAME, all.data());
  std::vector<std::string> hosts;
  for (int r = 0; r < size_; ++r) {
    std::string host(all.data() + static_cast<std::size_t>(r) * MPI_MAX_PROCESSOR_NAME);
    if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
  }
  return hosts;
}

std::vector<ClockOffset> MpiWorld::clock_offsets(const std::function<double()>& now_us, int rounds) {
  barrier();
  std::vector<double> flat(static_cast<std::size_t>(size_) * 2, 0.0);  // offset, bound per rank
  for (int peer = 1; peer < size_; ++peer) {
    if (rank_ == 0) {
      std::vector<PingRound> samples;
      for (int i = 0; i < rounds; ++i) {
        PingRound round;
        double dummy = 0;
        round.t0_us = now_us();
        check_mpi(MPI_Send(&dummy, 1, MPI_DOUBLE, peer, kPingTag, MPI_COMM_WORLD), "MPI_Send");
        check_mpi(MPI_Recv(&round.remote_us, 1, MPI_DOUBLE, peer, kPingTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
        round.t1_us = now_us();
        samples.push_back(round);
      }
      const ClockOffset best = offset_from_rounds(samples);
      flat[static_cast<std::size_t>(peer) * 2] = best.offset_us;
      flat[static_cast<std::size_t>(peer) * 2 + 1] = best.bound_us;
    } else if (rank_ == peer) {
      for (int i = 0; i < rounds; ++i) {
        double dummy = 0;
        check_mpi(MPI_Recv(&dummy, 1, MPI_DOUBLE, 0, kPingTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
        const double now = now_us();
        check_mpi(MPI_Send(&now, 1, MPI_DOUBLE, 0, kPingTag, MPI_COMM_WORLD), "MPI_Send");
      }
    }
  }
  broadcast(flat.data(), flat.size() * sizeof(double), 0);
  std::vector<ClockOffset> offsets;
  for (int r = 0; r < size_; ++r) {
    offsets.push_back({flat[static_cast<std::size_t>(r) * 2], flat[static_cast<std::size_t>(r) * 2 + 1]});
  }
  return offsets;
}

std::vector<RankIterationRecord> MpiWorld::gather_records(const RankIterationRecord& mine) {
  const std::vector<double> data = encode_record(mine);
  int count = static_cast<int>(data.size());
  std::vector<int> counts(static_cast<std::size_t>(size_));
  check_mpi(MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather");
  std::vector<int> displs(static_cast<std::size_t>(size_), 0);
  std::vector<double> all;
  if (rank_ == 0) {
    for (int r = 1; r < size_; ++r) {
      displs[static_cast<std::size_t>(r)] = displs[static_cast<std::size_t>(r - 1)] + counts[static_cast<std::size_t>(r - 1)];
    }
    all.resize(static_cast<std::size_t>(displs.back() + counts.back()));
  }
  check_mpi(MPI_Gatherv(data.data(), count, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, 0,
                    MPI_COMM_WORLD),
        "MPI_Gatherv");
  std::vector<RankIterationRecord> records;
  if (rank_ != 0) return records;
  for (int r = 0; r < size_; ++r) {
    const auto begin = all.begin() + displs[static_cast<std::size_t>(r)];
    records.push_back(decode_record(std::vector<double>(begin, begin + counts[static_cast<std::size_t>(r)])));
  }
  return records;
}

}  // namespace ppb
