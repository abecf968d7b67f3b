// ppbench --backend cuda through the CUDA and NCCL double: the backend's own
// code (set-up, iterations, clock mapping, error, time-out and abort paths,
// calibrate, sweep) under `mpirun ppbench_cuda_double`, on what it writes and
// on the double's trace of where it put its work (double/double_trace.h).
// Labels cuda-double and mpi. The double's timings are virtual (cuda_double.h):
// the checks on durations are exact, not speed bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "backends/cuda/transfer_plan.h"
#include "mpi_commands.h"
#include "render/image.h"
#include "schedules/generators.h"

namespace ppb::test {
namespace {

using nlohmann::json;

constexpr double kLaunchUs = 2.0;          // PPB_CUDA_DOUBLE_LAUNCH_US's default
constexpr double kLinkLatencyUs = 300.0;   // set below, so that a transfer's cost stands out
constexpr double kLinkBytesPerUs = 1e4;    // PPB_CUDA_DOUBLE_LINK_RATE's default
const std::vector<double> kOffsetsUs = {0, 1500000, -250000, 40000};  // each rank's device clock - host

std::string offsets_env() {
  std::string list;
  for (double o : kOffsetsUs) list += (list.empty() ? "" : ",") + std::to_string(static_cast<long long>(o));
  return "PPB_CUDA_DOUBLE_CLOCK_OFFSET_US=" + list + " PPB_CUDA_DOUBLE_LINK_LATENCY_US=" +
         std::to_string(static_cast<int>(kLinkLatencyUs)) + " ";
}

// `env` before mpirun reaches every rank (mpirun passes its environment on).
std::string ppbench(int ranks, const std::string& env = "") { return env + mpirun(ranks) + " --backend cuda"; }

std::vector<json> trace_of(const std::string& dir, int rank) {
  std::vector<json> lines;
  std::istringstream in(read_text(dir + "/rank" + std::to_string(rank) + ".jsonl"));
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

std::vector<json> of_kind(const std::vector<json>& trace, const std::string& op) {
  std::vector<json> out;
  for (const json& l : trace) {
    if (l["op"] == op) out.push_back(l);
  }
  return out;
}


struct Case {
  std::string schedule;
  int ranks;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.schedule << " at -np " << c.ranks; }

class PpbenchOnDouble : public ::testing::TestWithParam<Case> {};

// What a GPU run writes, with 1 MiB messages that every send must hand over
// in a rendezvous (the double never buffers: deadlock freedom does not lean
// on buffering), ranks whose device clocks are seconds apart, and transfers
// that cost 300 us + 1 MiB / 10 GB/s.
TEST_P(PpbenchOnDouble, RunsTheScheduleAsOnAGpu) {
  const Case c = GetParam();
  TempDir dir;
  const std::string out = dir.file("run"), trace = dir.file("trace");
  std::filesystem::create_directory(trace);
  const std::uint64_t bytes = 1 << 20;
  std::string cmd = ppbench(c.ranks, offsets_env() + "PPB_CUDA_DOUBLE_TRACE=" + trace + " ") + " --schedule " +
                    c.schedule + " -b 8 -f 1 --backward-times 2 --activation-bytes 1M --warmup 1 --iters 2 --out " + out;
  if (c.schedule == "zb-h1") cmd += " --weight-times 1";
  const CommandResult r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("ppbench: backend cuda (requested), " + std::to_string(c.ranks) + " ranks\n", 0), 0u) << r.out;
  for (const char* file : {"measured.json", "predicted.json", "replay.json", "summary.json", "trace.json", "timeline.txt"}) {
    EXPECT_TRUE(file_exists(out + "/" + file)) << file;
  }
  EXPECT_EQ(file_exists(out + "/gantt.png"), image_output_available());

  const json measured = load_json(out + "/measured.json"), predicted = load_json(out + "/predicted.json");
  const json& details = measured["context"]["backend_details"];
  ASSERT_EQ(measured["context"]["backend"], "cuda");
  EXPECT_EQ(details["device"]["name"], "ppbench CUDA double");
  EXPECT_EQ(details["gpus"].size(), static_cast<std::size_t>(c.ranks));
  EXPECT_EQ(details["buffer_pool_growths"], 0);
  const double bound = measured["context"]["clock_alignment_bound_us"].get<double>();
  const double cost = kLinkLatencyUs + static_cast<double>(bytes) / kLinkBytesPerUs;

  // The GPU timer probe recovers each rank's configured device clock offset
  // within the bound it reports.
  const json& clock = details["clock_alignment"];
  for (int rank = 0; rank < c.ranks; ++rank) {
    EXPECT_NEAR(clock["globaltimer_minus_host_us"][rank].get<double>(), kOffsetsUs[static_cast<std::size_t>(rank)],
                clock["globaltimer_probe_bound_us"][rank].get<double>())
        << "rank " << rank;
  }

  ASSERT_EQ(measured["iterations"].size(), 2u);
  for (const json& iteration : measured["iterations"]) {
    ASSERT_EQ(iteration["ranks"].size(), predicted["ranks"].size());
    std::map<std::tuple<std::string, int, int>, json> op_of;  // (kind, stage, microbatch) -> record
    for (std::size_t rank = 0; rank < iteration["ranks"].size(); ++rank) {
      const json& ops = iteration["ranks"][rank]["ops"];
      ASSERT_EQ(ops.size(), predicted["ranks"][rank]["ops"].size());
      double previous_end = -1e300;
      for (const json& op : ops) {
        EXPECT_GE(op["start"].get<double>(), previous_end - 1e-3) << op;  // one compute stream: in order
        previous_end = op["end"].get<double>();
        op_of[{op["kind"], op["stage"], op["microbatch"]}] = op;
      }
    }
    // Every transfer, on its link: it leaves at its producer's end, arrives a
    // link's cost later at the earliest, and its consumer starts after it.
    ASSERT_EQ(iteration["transfers"].size(), predicted["transfers"].size());
    for (const json& x : iteration["transfers"]) {
      EXPECT_EQ(x["bytes"], bytes);
      const json& producer = op_of.at({x["kind"], x["stage"], x["microbatch"]});
      EXPECT_NEAR(x["send"].get<double>(), producer["end"].get<double>(), 1e-3) << x;
      EXPECT_GE(x["arrive"].get<double>(), x["send"].get<double>() + cost - 2 * bound) << x;
      const bool activation = x["kind"] == "F";
      const int consumer_stage = x["stage"].get<int>() + (activation ? 1 : -1);
      const json& consumer = op_of.at({activation ? "F" : "B", consumer_stage, x["microbatch"]});
      EXPECT_GE(consumer["start"].get<double>(), x["arrive"].get<double>() - 1e-3) << x << consumer;
    }
  }

  // Each op lasted what the double's kernel took: its launch cost and the
  // work the calibrated kernel asked for (target - intercept, rank 0's
  // intercept in the context), never less, and exactly that unless the host
  // enqueued it after the device ran dry (the first op of an iteration).
  const double intercept_us = details["kernel"]["launch_intercept_us"].get<double>();
  const int iterations_run = 3;  // warm-up included
  std::size_t exact = 0, total = 0;
  for (int rank = 0; rank < c.ranks; ++rank) {
    const std::vector<json> log = trace_of(trace, rank);
    std::vector<json> spins;
    for (const json& k : of_kind(log, "kernel")) {
      if (k["kernel"] == "spin") spins.push_back(k);
    }
    const std::size_t rank_ops = measured["iterations"][0]["ranks"][rank]["ops"].size();
    ASSERT_GE(spins.size(), rank_ops * iterations_run);
    // The last kernels are the iterations', in op order; all on the compute stream.
    const std::size_t first = spins.size() - rank_ops * iterations_run;
    const int compute_stream = spins.back()["stream"];
    for (int it = 1; it < iterations_run; ++it) {
      const json& ops = measured["iterations"][it - 1]["ranks"][rank]["ops"];
      for (std::size_t j = 0; j < rank_ops; ++j) {
        const json& k = spins[first + static_cast<std::size_t>(it) * rank_ops + j];
        const json& op = ops[j];
        EXPECT_EQ(k["stream"], compute_stream);
        const double work = k["work_us"].get<double>();
        // The op's target: its length in the prediction (free links, nominal times).
        const json& twin = predicted["ranks"][rank]["ops"][j];
        const double target = twin["end"].get<double>() - twin["start"].get<double>();
        EXPECT_LE(work, target);
        if (rank == 0) {
          EXPECT_NEAR(work, target - intercept_us, 2e-3) << op;
        }
        const double duration = op["end"].get<double>() - op["start"].get<double>();
        // Within the rounding of cudaEventElapsedTime's float milliseconds.
        EXPECT_GE(duration, work + kLaunchUs - 0.01) << op << k;
        exact += std::abs(duration - (work + kLaunchUs)) < 0.01 ? 1 : 0;
        ++total;
      }
    }

    // Transfers on their own streams: one communicator and stream per link
    // end, never the compute stream, a single direction each; every message
    // of the run and each link's first message of set-up.
    const Schedule s = generate_schedule(c.schedule, c.ranks, 8, c.schedule == "interleaved" ? 2 : 1);
    const TransferPlan plan = plan_transfers(s);
    std::map<int, std::set<int>> streams_of_comm;
    std::map<int, std::set<std::string>> kinds_of_comm;
    std::map<std::pair<std::string, int>, int> messages;  // (send|recv, peer) -> count
    for (const json& x : log) {
      if (x["op"] != "send" && x["op"] != "recv") continue;
      EXPECT_NE(x["stream"], compute_stream) << x;
      streams_of_comm[x["comm"]].insert(x["stream"].get<int>());
      kinds_of_comm[x["comm"]].insert(x["op"].get<std::string>());
      ++messages[{x["op"], x["peer"]}];
    }
    EXPECT_EQ(streams_of_comm.size(), plan.links_of(rank).size()) << "rank " << rank;
    std::set<int> link_streams;
    for (const auto& [comm, streams] : streams_of_comm) {
      EXPECT_EQ(streams.size(), 1u) << "communicator " << comm;
      EXPECT_EQ(kinds_of_comm[comm].size(), 1u) << "communicator " << comm;
      link_streams.insert(*streams.begin());
    }
    EXPECT_EQ(link_streams.size(), streams_of_comm.size()) << "rank " << rank;
    for (const LinkPlan& link : plan.links) {
      if (link.src_rank == rank) {
        EXPECT_EQ(messages[std::make_pair("send", link.dst_rank)], 1 + iterations_run * int(link.producers.size()));
      }
      if (link.dst_rank == rank) {
        EXPECT_EQ(messages[std::make_pair("recv", link.src_rank)], 1 + iterations_run * int(link.producers.size()));
      }
    }
  }
  EXPECT_GE(2 * exact, total) << exact << " of " << total << " ops lasted exactly their kernel";
}

INSTANTIATE_TEST_SUITE_P(Schedules, PpbenchOnDouble,
                         ::testing::Values(Case{"gpipe", 2}, Case{"1f1b", 2}, Case{"interleaved", 2}, Case{"zb-h1", 2},
                                           Case{"gpipe", 4}, Case{"1f1b", 4}, Case{"interleaved", 4},
                                           Case{"zb-h1", 4}),
                         [](const auto& info) {
                           std::string name = info.param.schedule + "_np" + std::to_string(info.param.ranks);
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

// Rank 1's device clock runs 0.5% fast. The mapping of its event times onto
// the host clock is taken afresh every iteration, so a transfer's times stay
// within the bound plus the drift since that iteration's reference: over the
// iteration, and over the barrier between the reference and the iteration's
// start, where a rank of an oversubscribed host can wait a few scheduler
// ticks (4 ms each; 12 ms was seen). A mapping taken once would be off by the
// drift over the whole run: 500 us by the last of five 20 ms iterations. The
// timer probe's offset is rank 1's at probe time, within its bound plus the
// drift since the double started.
TEST(PpbenchOnDoubleClocks, ADriftingDeviceClockStaysWithinItsBounds) {
  TempDir dir;
  const std::string out = dir.file("run");
  const double drift = 5000e-6;
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = run_command(ppbench(2, "PPB_CUDA_DOUBLE_CLOCK_DRIFT_PPM=0,5000 PPB_CUDA_DOUBLE_LINK_LATENCY_US=" +
                                                     std::to_string(static_cast<int>(kLinkLatencyUs)) + " ") +
                                      " --schedule 1f1b -b 4 -f 2 --backward-times 2 --iters 4 --out " + out);
  const double wall_us = 1e6 * std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json m = load_json(out + "/measured.json");
  const json& clock = m["context"]["backend_details"]["clock_alignment"];
  EXPECT_NEAR(clock["globaltimer_minus_host_us"][1].get<double>(), 0.0,
              clock["globaltimer_probe_bound_us"][1].get<double>() + drift * wall_us);
  const double bound = m["context"]["clock_alignment_bound_us"].get<double>();
  const double cost = kLinkLatencyUs + 65536 / kLinkBytesPerUs;
  constexpr double kBarrierWaitUs = 30000;
  for (const json& iteration : m["iterations"]) {
    double makespan = 0;
    for (const json& rank : iteration["ranks"]) {
      for (const json& op : rank["ops"]) makespan = std::max(makespan, op["end"].get<double>());
    }
    for (const json& x : iteration["transfers"]) {
      EXPECT_GE(x["arrive"].get<double>(),
                x["send"].get<double>() + cost - 2 * bound - drift * (makespan + kBarrierWaitUs)) << x;
    }
  }
}

// A run that fails writes nothing, and says so on every rank the same way.
void expect_no_run(const TempDir& dir, const CommandResult& r) {
  EXPECT_FALSE(file_exists(dir.file("run"))) << r.out << r.err;
  EXPECT_EQ(r.out.find("ppbench: wrote"), std::string::npos) << r.out;
}

// 1F1B with F of 1 ms and B of 3 ms: a kernel rule of >= 2500us hits the
// rank's first B (set-up's kernels are shorter: the queue probe's last 2 ms).
std::string faulty(int ranks, const std::string& rules, const std::string& flags, const TempDir& dir) {
  return ppbench(ranks, "PPB_CUDA_DOUBLE_FAULTS='" + rules + "' ") + " --schedule 1f1b -b 4 -f 1 --backward-times 3 "
         "--iters 2 " + flags + " --out " + dir.file("run");
}

// The first message of link 1->0 never completes: every rank's set-up
// times out naming the step, the communicators made in set-up are aborted
// (by the first rank to stop the job at least: its MPI_Abort may end the
// others before their own abort), exit 3, nothing written.
TEST(PpbenchOnDoubleFaults, HangInSetUpIsAbortedNamingTheStepOnEveryRank) {
  TempDir dir;
  const CommandResult r = run_command(faulty(2, "1:send>=1:hang", "--setup-timeout 3", dir));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_NE(r.err.find("ppbench: rank " + std::to_string(rank) + " timed out in set-up, preparing the backend "
                         "(connecting link 1->0 (2 of 2) (its first message))"),
              std::string::npos)
        << r.err;
  }
  EXPECT_NE(r.err.find(": ncclCommAbort of the communicator with world rank "), std::string::npos) << r.err;
  expect_no_run(dir, r);
}

// A stage kernel of rank 1 never ends (its first B):
// the timeout names the op the device is in and what else is pending, the
// communicators are aborted, exit 3, nothing written, and no rank reports
// the aborted links as a failure of its own.
TEST(PpbenchOnDoubleFaults, HangInAnIterationNamesWhatTheDeviceHasNotFinished) {
  TempDir dir;
  const CommandResult r = run_command(faulty(4, "1:kernel>=2500us:hang", "--timeout 3", dir));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("ppbench: rank 1 timed out in iteration 0 after "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("on the device: compute stream in B0@s1"), std::string::npos) << r.err;
  for (int rank = 0; rank < 4; ++rank) {
    EXPECT_EQ(count_of(r.err, "ppbench: rank " + std::to_string(rank) + " timed out in iteration 0"), 1) << r.err;
  }
  EXPECT_NE(r.err.find(": ncclCommAbort of the communicator with world rank "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("failed in iteration"), std::string::npos) << r.err;
  expect_no_run(dir, r);
}

TEST(PpbenchOnDoubleFaults, AsynchronousNcclErrorFailsTheRankNamingTheLink) {
  TempDir dir;
  const CommandResult r = run_command(faulty(2, "1:recv>=1K:error", "--timeout 20", dir));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("ppbench: rank 1 failed in iteration 0: NCCL asynchronous error on the link with rank 0"),
            std::string::npos)
      << r.err;
  expect_no_run(dir, r);
}

// The first message of a link fails asynchronously: set-up waits for it as
// an iteration waits, polling NCCL's errors, so the rank reports the failure
// at once instead of sitting out --setup-timeout.
TEST(PpbenchOnDoubleFaults, AsynchronousNcclErrorInSetUpIsReportedNotWaitedOut) {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = run_command(faulty(2, "1:send>=1:error", "--setup-timeout 120", dir));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_LT(seconds, 60.0);
  EXPECT_NE(r.err.find("ppbench: rank 1 failed in set-up: NCCL asynchronous error on the link with rank 0"),
            std::string::npos)
      << r.err;
  expect_no_run(dir, r);
}

// Every buffer of an iteration is allocated up front: a plan that cannot fit
// the device's memory is bad input on every rank, before anything runs.
TEST(PpbenchOnDoubleFaults, BuffersThatDoNotFitAreBadInputOnEveryRank) {
  TempDir dir;
  const CommandResult r = run_command(ppbench(2, "PPB_CUDA_DOUBLE_MEMORY=1G ") +
                                      " --schedule 1f1b -b 8 --activation-bytes 64M --iters 1 --out " + dir.file("run"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_NE(r.err.find("ppbench: error: --activation-bytes: rank " + std::to_string(rank) + " needs "),
              std::string::npos)
        << r.err;
  }
  EXPECT_TRUE(r.out.empty()) << r.out;
  expect_no_run(dir, r);
}

TEST(PpbenchOnDoubleFaults, AllocationFailureNamesTheCallAndRank) {
  TempDir dir;
  const CommandResult r = run_command(faulty(2, "1:malloc>=1:error", "", dir));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("ppbench: rank 1 failed in set-up: CUDA error at "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rank 1: cudaMalloc("), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cudaErrorMemoryAllocation"), std::string::npos) << r.err;
  expect_no_run(dir, r);
}

TEST(PpbenchOnDoubleFaults, LaunchErrorAndStickyKernelFaultFailTheRankNamingTheError) {
  for (const auto& [rule, said] : std::vector<std::pair<std::string, std::string>>{
           {"1:kernel>=2500us:error", "kernels::launch_spin(stream, units, blocks_)): cudaErrorLaunchOutOfResources"},
           {"1:kernel>=2500us:fault", "cudaEventQuery (an iteration's last events): cudaErrorIllegalAddress"}}) {
    SCOPED_TRACE(rule);
    TempDir dir;
    const CommandResult r = run_command(faulty(2, rule, "--timeout 20", dir));
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("ppbench: rank 1 failed in iteration 0: CUDA error at "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
    expect_no_run(dir, r);
  }
}

// Rank 1 dies while it sends: the job stops long before the timeout, the
// launcher names the rank, nothing is written.
TEST(PpbenchOnDoubleFaults, DeadRankStopsTheJob) {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = run_command(faulty(2, "1:send>=1K:die", "--timeout 60", dir));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_LT(seconds, 30.0);
  EXPECT_NE(r.err.find("ppbench CUDA double: rank 1 dies at ncclSend"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rank 1"), std::string::npos) << r.err;
  expect_no_run(dir, r);
}

// The host thread never comes back from ncclSend (as when NCCL connects a
// dead peer lazily): the timeout line says so.
TEST(PpbenchOnDoubleFaults, HostStuckInsideAnNcclCallIsNamed) {
  TempDir dir;
  const CommandResult r = run_command(faulty(2, "1:send>=1K:stall", "--timeout 3", dir));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("; on the device: the host thread is inside ncclSend of B0@s1 to rank 0"), std::string::npos)
      << r.err;
  expect_no_run(dir, r);
}

TEST(PpbenchOnDoubleFaults, NoDeviceIsBadInputForCudaAndCpuForAuto) {
  TempDir dir;
  const CommandResult cuda = run_command(ppbench(2, "PPB_CUDA_DOUBLE_DEVICES=0 ") + " -b 2 --iters 1 --out " +
                                         dir.file("run"));
  EXPECT_EQ(cuda.exit_code, 2) << cuda.err;
  EXPECT_EQ(count_of(cuda.err, "ppbench: error: --backend cuda: no GPU visible on every rank\n"), 2) << cuda.err;
  expect_no_run(dir, cuda);
  const CommandResult automatic =
      run_command("PPB_CUDA_DOUBLE_DEVICES=0 " + mpirun(2) + " -b 2 --iters 1 --warmup 0 --out " + dir.file("auto"));
  ASSERT_EQ(automatic.exit_code, 0) << automatic.err;
  EXPECT_EQ(automatic.out.rfind("ppbench: backend cpu (auto: no GPU visible on every rank), 2 ranks", 0), 0u)
      << automatic.out;
}

// What the context says about the device the run had: the NCCL that loaded
// (not the header's), where from, whether MPS shares the GPU and how many
// streams it really runs side by side, whatever was asked.
TEST(PpbenchOnDoubleContext, RecordsTheLoadedNcclAndTheGrantedHardwareQueues) {
  TempDir dir;
  const std::string env = "PPB_CUDA_DOUBLE_NCCL_VERSION=22703 PPB_CUDA_DOUBLE_MPS=1 PPB_CUDA_DOUBLE_QUEUES=3 ";
  const CommandResult r = run_command(ppbench(2, env) + " -b 2 --iters 1 --warmup 0 --out " + dir.file("run"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json details = load_json(dir.file("run/summary.json"))["context"]["backend_details"];
  EXPECT_EQ(details["nccl_version"], "2.27.3");
  EXPECT_NE(details["nccl_header_version"], "2.27.3");
  EXPECT_EQ(std::filesystem::path(details["nccl_library"].get<std::string>()),
            std::filesystem::canonical(PPB_PPBENCH_PATH));  // the double is linked into the program
  const json& queues = details["hardware_queues"];
  EXPECT_EQ(queues["requested"], "32");  // ppbench's default
  EXPECT_EQ(queues["streams_probed"], 32);
  EXPECT_EQ(queues["streams_run_concurrently"], 3);  // what the driver granted
  EXPECT_EQ(queues["mps"], true);

  const CommandResult asked = run_command(ppbench(2, "CUDA_DEVICE_MAX_CONNECTIONS=4 ") + " -b 2 --iters 1 --warmup 0 "
                                          "--out " + dir.file("asked"));
  ASSERT_EQ(asked.exit_code, 0) << asked.err;
  const json four = load_json(dir.file("asked/summary.json"))["context"]["backend_details"]["hardware_queues"];
  EXPECT_EQ(four["requested"], "4");
  EXPECT_EQ(four["streams_probed"], 4);
  EXPECT_EQ(four["streams_run_concurrently"], 4);
  EXPECT_EQ(four["mps"], false);
}

// [first, last] host time of a rank's calibration and probes: from its first
// zero-work spin kernel (calibration) to the end of its last timestamp kernel
// (the timer probe) and the queue probe's kernels.
std::pair<double, double> device_measurement_span(const std::vector<json>& trace) {
  double first = 1e300, last = -1e300;
  for (const json& k : of_kind(trace, "kernel")) {
    const bool calibration = k["kernel"] == "spin" && k["work_us"].get<double>() <= 0.001;
    const bool probe = k["kernel"] == "timestamp" || (k["kernel"] == "spin" && k["work_us"].get<double>() == 2000.0);
    if (!calibration && !probe) continue;
    first = std::min(first, k["start_us"].get<double>());
    last = std::max(last, k["end_us"].get<double>());
  }
  return {first, last};
}

// Ranks that share a GPU calibrate and probe one after the other, so that
// neither the timer probe's bound nor the queue probe measures another rank's
// work: their measurement spans do not overlap (the trace's times are the
// host's steady clock, one clock for every rank).
TEST(PpbenchOnDoubleContext, RanksOnOneGpuMeasureTheDeviceInTurns) {
  TempDir dir;
  const std::string trace = dir.file("trace");
  std::filesystem::create_directory(trace);
  const CommandResult r = run_command(ppbench(3, "PPB_CUDA_DOUBLE_TRACE=" + trace + " ") +
                                      " -b 3 --iters 1 --warmup 0 --out " + dir.file("run"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::pair<double, double>> spans;
  for (int rank = 0; rank < 3; ++rank) spans.push_back(device_measurement_span(trace_of(trace, rank)));
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i) {
    EXPECT_LE(spans[i - 1].second, spans[i].first) << "turns overlap";
  }
}

// One backend for every size and placement: each link's communicator and the
// kernel calibration are made once, and the link times measured are the
// double's (300 us + bytes at 10 GB/s, exactly, on the ranks' mapped clocks).
// A transfer that starts late because a host enqueued it late (a loaded
// machine) takes longer, as on a GPU: the fastest sample of each size (p5 of
// five) is the one checked.
TEST(PpbenchOnDoubleCommands, CalibrateMeasuresTheDoublesLinksWithOneBackend) {
  TempDir dir;
  const std::string trace = dir.file("trace");
  std::filesystem::create_directory(trace);
  const std::string out = dir.file("calibration.json");
  const CommandResult cal = run_command(offsets_env() + "PPB_CUDA_DOUBLE_TRACE=" + trace + " " + mpirun(2) +
                                        " calibrate --backend cuda -f 3 --backward-times 3 --sizes 64K,1M "
                                        "--warmup 1 --reps 5 --out " + out);
  ASSERT_EQ(cal.exit_code, 0) << cal.out << cal.err;
  EXPECT_EQ(cal.out.rfind("ppbench: backend cuda (requested), 2 ranks\n", 0), 0u) << cal.out;
  const json c = load_json(out);
  EXPECT_EQ(c["schema"], "ppbench.calibration/1");
  const double bound = c["context"]["clock_alignment_bound_us"].get<double>();
  ASSERT_EQ(c["links"].size(), 2u);
  for (const json& link : c["links"]) {
    ASSERT_EQ(link["sizes"].size(), 2u) << link;
    for (const json& sample : link["sizes"]) {
      const double expected = kLinkLatencyUs + sample["bytes"].get<double>() / kLinkBytesPerUs;
      EXPECT_NEAR(sample["p5_us"].get<double>(), expected, 2 * bound + 1.0) << sample;
    }
  }
  for (int rank = 0; rank < 2; ++rank) {
    const std::vector<json> log = trace_of(trace, rank);
    std::set<int> comms;
    for (const json& x : log) {
      if (x["op"] == "send" || x["op"] == "recv") comms.insert(x["comm"].get<int>());
    }
    // Placements 0,1 and 1,0 have the same two links: two communicators in all.
    EXPECT_EQ(comms.size(), 2u) << "rank " << rank;
    int calibration_launches = 0;
    for (const json& k : of_kind(log, "kernel")) {
      calibration_launches += k["kernel"] == "spin" && k["work_us"].get<double>() <= 0.001 ? 1 : 0;
    }
    EXPECT_EQ(calibration_launches, 6) << "rank " << rank;  // the module load and 5 timed launches, once
  }
}

// ppbench sweep on the CUDA backend: every point measured on one backend
// (each link's communicator made once over all points), each written.
TEST(PpbenchOnDoubleCommands, SweepMeasuresEveryPointOnOneBackend) {
  TempDir dir;
  const std::string trace = dir.file("trace"), out = dir.file("sweep");
  std::filesystem::create_directory(trace);
  const CommandResult r = run_command("PPB_CUDA_DOUBLE_TRACE=" + trace + " " + mpirun(2) +
                                      " sweep --backend cuda --schedule gpipe,interleaved -b 2,4 -f 0.5 "
                                      "--backward-times 1 --iters 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json j = load_json(out + "/sweep.json");
  EXPECT_EQ(j["complete"], true);
  EXPECT_EQ(j["context"]["backend"], "cuda");
  ASSERT_EQ(j["points"].size(), 4u);
  for (const json& p : j["points"]) {
    ASSERT_EQ(p["status"], "ok") << p;
    const json m = load_json(out + "/" + p["directory"].get<std::string>() + "/measured.json");
    EXPECT_EQ(m["context"]["backend"], "cuda");
    EXPECT_EQ(m["iterations"].size(), 2u);
  }
  for (int rank = 0; rank < 2; ++rank) {
    std::set<int> comms;
    for (const json& x : trace_of(trace, rank)) {
      if (x["op"] == "send" || x["op"] == "recv") comms.insert(x["comm"].get<int>());
    }
    EXPECT_EQ(comms.size(), 2u) << "rank " << rank;  // links 0->1 and 1->0, for all four points
  }
}

// A later point that hangs: the points before it stay written.
TEST(PpbenchOnDoubleCommands, SweepCutShortKeepsTheFinishedPoints) {
  TempDir dir;
  const std::string out = dir.file("sweep");
  const CommandResult r = run_command("PPB_CUDA_DOUBLE_FAULTS='1:kernel>=5ms:hang' " + mpirun(2) +
                                      " sweep --backend cuda --schedule 1f1b -b 2,4 -f 0.5 --backward-times 1 "
                                      "--iters 1 --timeout 3 --inject-fault 1:B3:slow=6 --out " + out);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("ppbench: rank 1 timed out in iteration 0"), std::string::npos) << r.err;
  const json j = load_json(out + "/sweep.json");
  EXPECT_EQ(j["complete"], false);
  ASSERT_EQ(j["points"].size(), 1u);
  EXPECT_EQ(j["points"][0]["num_microbatches"], 2);
  EXPECT_TRUE(file_exists(out + "/points/1f1b-M2/measured.json"));
  EXPECT_FALSE(std::filesystem::exists(out + "/points/1f1b-M4"));
}

}  // namespace
}  // namespace ppb::test
