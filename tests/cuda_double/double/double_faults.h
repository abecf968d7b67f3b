// Fault hooks, each to drive one error path of the code under test:
//   PPB_CUDA_DOUBLE_FAULTS="RULE[;RULE...]", RULE = RANK:WHAT:ACTION
//   RANK    the MPI world rank it applies to, or * for every rank
//   WHAT    kernel>=DURATION  the first stage kernel whose work (launch cost
//                             excluded) lasts at least DURATION (ns, us, ms, s)
//           send>=BYTES / recv>=BYTES   the first ncclSend / ncclRecv of at
//                             least BYTES (K, M, G): >=1 is the link's warm-up
//                             message in set-up, >=1K a measured message
//           malloc>=BYTES     the first cudaMalloc of at least BYTES
//   ACTION  hang   the operation never completes (an NCCL one until
//                  ncclCommAbort, a kernel never)
//           error  kernel: the launch fails with cudaErrorLaunchOutOfResources;
//                  send/recv: the communicator reports ncclSystemError
//                  asynchronously and the operation stays blocked;
//                  malloc: cudaErrorMemoryAllocation
//           fault  kernel: it runs into cudaErrorIllegalAddress, which is
//                  sticky (every later call returns it)
//           die    the process kills itself (SIGKILL) when the operation starts
//           stall  send/recv: the calling host thread never returns from the call
// Each rule fires once, at the first operation it matches. A malformed list
// ends the process with status 2 naming the rule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ppb::cuda_double {

enum class FaultTarget { Kernel, Send, Receive, Malloc };
enum class FaultAction { None, Hang, Error, Fault, Die, Stall };

struct FaultRule {
  FaultTarget target = FaultTarget::Kernel;
  std::uint64_t at_least = 0;  // ns of kernel work, or bytes
  FaultAction action = FaultAction::None;
  std::string text;
};

// Parses a rule list for `rank` (rules for other ranks are dropped).
std::vector<FaultRule> parse_fault_rules(const std::string& text, int rank);

// The action of the first unfired rule of this process matching
// (target, amount), marking it fired; None when there is none. Thread-safe.
FaultAction take_fault(FaultTarget target, std::uint64_t amount, std::string* rule_text = nullptr);

// The process dies as a crashed rank does (a line on stderr, then SIGKILL).
[[noreturn]] void die_now(const std::string& where);
// Blocks the calling thread until the process ends.
[[noreturn]] void block_forever();

}  // namespace ppb::cuda_double
