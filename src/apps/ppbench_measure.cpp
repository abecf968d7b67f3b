#include "apps/ppbench_measure.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "cli/cuda_options.h"
#include "cli/sim_options.h"
#include "core/errors.h"
#include "io/context.h"
#include "runtime/measured_timeline.h"

namespace ppb {

namespace {

constexpr int kClockRounds = 20;

// PPB_RUN_LABEL (launch/one-gpu.sh sets "functional": several ranks on one GPU
// show that the harness works, not what a schedule costs). Null when unset.
const char* run_label() {
  const char* label = std::getenv("PPB_RUN_LABEL");
  return label != nullptr && *label != '\0' ? label : nullptr;
}

}  // namespace

const char* const kClockAlignmentMethod =
    "barrier, then ping-pong between rank 0 and each rank (20 rounds, the round with the smallest round trip): "
    "offset = remote - (t0 + t1) / 2, bound = rtt / 2";

void add_measure_options(CLI::App& app, MeasureOptions& o) {
  app.add_option("--backend", o.backend, "auto (cuda where a GPU is visible, else cpu), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  add_cuda_backend_options(app, o.cuda);
  app.add_option("--warmup", o.warmup, "iterations run and discarded first")->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "seconds one iteration may take before the job is stopped (exit 3)")
      ->capture_default_str();
  app.add_option("--setup-timeout", o.setup_timeout_s,
                 "seconds set-up may take (backend, NCCL communicators, kernel calibration, clock alignment) "
                 "before the job is stopped (exit 3)")
      ->capture_default_str();
  app.add_option("--spin-us", o.spin_us, "cpu backend: busy tail of each compute op in us")->capture_default_str();
}

void check_measure_options(const MeasureOptions& o) {
  PPB_REQUIRE_INPUT(o.warmup >= 0, "--warmup: must not be negative (got ", o.warmup, ")");
  PPB_REQUIRE_INPUT(std::isfinite(o.timeout_s) && o.timeout_s > 0, "--timeout: must be positive seconds (got ",
                    o.timeout_s, ")");
  PPB_REQUIRE_INPUT(std::isfinite(o.setup_timeout_s) && o.setup_timeout_s > 0,
                    "--setup-timeout: must be positive seconds (got ", o.setup_timeout_s, ")");
  PPB_REQUIRE_INPUT(std::isfinite(o.spin_us) && o.spin_us >= 0, "--spin-us: must not be negative");
}

bool agree_on_input(MpiWorld& world, const std::function<void()>& fn, int& exit_code) {
  bool failed = false;
  try {
    fn();
  } catch (const InputError& e) {
    exit_code = report_error("ppbench", e);
    failed = true;
  }
  if (world.any(failed)) {
    if (!failed) exit_code = kExitBadInput;
    return false;
  }
  return true;
}

RankSession::RankSession(RankSession&& other) noexcept
    : selected(std::exchange(other.selected, nullptr)),
      executor(std::move(other.executor)),
      watch(std::exchange(other.watch, nullptr)) {}

RankSession& RankSession::operator=(RankSession&& other) noexcept {
  if (this != &other) {
    detach_watch();
    selected = std::exchange(other.selected, nullptr);
    executor = std::move(other.executor);
    watch = std::exchange(other.watch, nullptr);
  }
  return *this;
}

RankSession::~RankSession() { detach_watch(); }

void RankSession::detach_watch() noexcept {
  if (watch != nullptr && selected != nullptr) watch->detach(selected->backend.get());
  watch = nullptr;
}

namespace {

// A rank that fails in set-up stops the job at once, as a failed iteration
// does. Bad input is not a failure (every rank agrees on it and exits 2); for
// anything else, unwinding would first destroy the backend, which waits for
// its device, and an NCCL operation that waits for a failed peer never ends.
[[noreturn]] void stop_after_setup_failure(const std::exception& e, int rank, const RankWatch& watch) {
  watch.park_if_expired();  // a consequence of the stop the watch has reported
  std::fprintf(stderr, "ppbench: rank %d failed in set-up: %s\n", rank, e.what());
  std::fflush(stderr);
  MpiWorld::abort(kExitRunFailed);
}

}  // namespace

BackendSelection open_backend(const MeasureOptions& o, MpiWorld& world, RankWatch& watch) {
  watch.start_setup(o.setup_timeout_s, "creating the backend");
  BackendOptions backend_options;
  backend_options.choice = o.backend;
  backend_options.cpu.spin_us = o.spin_us;
  backend_options.cuda = o.cuda;
  try {
    return make_backend(backend_options, world);
  } catch (const InputError&) {
    watch.park_if_expired();
    throw;
  } catch (const std::exception& e) {
    stop_after_setup_failure(e, world.rank(), watch);
  }
}

RankSession open_session(BackendSelection& backend, const MeasureOptions& o, const Schedule& schedule,
                         const CostModel& targets, std::uint64_t activation_bytes,
                         const std::vector<FaultSpec>& faults, MpiWorld& world, RankWatch& watch) {
  watch.start_setup(o.setup_timeout_s, "preparing the backend");
  RankSession session;
  session.selected = &backend;
  session.executor =
      std::make_unique<Executor>(schedule, world.rank(), targets, activation_bytes, *backend.backend, faults);
  watch.attach(backend.backend.get(), session.executor.get());
  session.watch = &watch;
  try {
    session.executor->prepare();
  } catch (const InputError&) {
    watch.park_if_expired();
    throw;
  } catch (const std::exception& e) {
    stop_after_setup_failure(e, world.rank(), watch);
  }
  watch.setup_step("waiting for the other ranks to finish set-up");
  return session;
}

std::unique_ptr<RankWatch> make_rank_watch(const MpiWorld& world) {
  return std::make_unique<RankWatch>(world.rank(), [] { MpiWorld::abort(kExitRunFailed); });
}

std::string backend_line(const BackendSelection& backend, int ranks) {
  std::string line = "ppbench: backend " + backend.backend->name() + " (" + backend.reason + "), " +
                     std::to_string(ranks) + " ranks";
  if (const char* label = run_label()) line += std::string("; results labelled ") + label;
  return line;
}

ClockAlignment align_clocks(MpiWorld& world, const RankSession& session) {
  if (session.watch != nullptr) session.watch->setup_step("aligning clocks");
  Backend& backend = session.backend();
  ClockAlignment clocks;
  for (const ClockOffset& c : world.clock_offsets([&] { return backend.now_us(); }, kClockRounds)) {
    clocks.offset_us.push_back(c.offset_us);
    clocks.bound_us = std::max(clocks.bound_us, c.bound_us);
  }
  return clocks;
}

MeasuredIterations run_iterations(MpiWorld& world, RankSession& session, const Schedule& schedule,
                                  const ClockAlignment& clocks, int warmup, int iters, double timeout_s) {
  Executor& executor = *session.executor;
  Backend& backend = session.backend();
  PPB_ASSERT(session.watch != nullptr, "run_iterations on a session without a watch");
  RankWatch& watch = *session.watch;

  MeasuredIterations out;
  out.peak_buffer_bytes.assign(static_cast<std::size_t>(world.size()), 0);
  try {
    for (int i = 0; i < warmup + iters; ++i) {
      watch.start_iteration(timeout_s, i);
      world.barrier();
      backend.mark_clock_reference();
      world.barrier();  // no rank starts its work before every rank has its reference
      const RankIterationRecord& record = executor.run_iteration(i);
      const std::vector<RankIterationRecord> records = world.gather_records(record);
      watch.finish();
      if (world.rank() == 0 && i >= warmup) {
        out.timelines.push_back(assemble_measured(schedule, records, clocks.offset_us));
        for (std::size_t r = 0; r < records.size(); ++r) {
          out.peak_buffer_bytes[r] = std::max(out.peak_buffer_bytes[r], records[r].peak_buffer_bytes);
        }
      }
    }
  } catch (const std::exception& e) {
    watch.park_if_expired();  // a consequence of the stop the watch has reported
    std::fprintf(stderr, "ppbench: rank %d failed in iteration %d: %s\n", world.rank(), executor.current_iteration(),
                 e.what());
    std::fflush(stderr);
    MpiWorld::abort(kExitRunFailed);
  }
  // The clock bound must cover every rank's timestamp mapping, not rank 0's.
  const double mine = backend.timestamp_bound_us();
  std::vector<double> all(static_cast<std::size_t>(world.size()));
  world.allgather(&mine, sizeof mine, all.data());
  for (double b : all) out.timestamp_bound_us = std::max(out.timestamp_bound_us, b);
  return out;
}

int broadcast_exit_code(MpiWorld& world, int exit_code) {
  long long code = exit_code;
  world.broadcast(&code, sizeof code, 0);
  return static_cast<int>(code);
}

nlohmann::json measurement_context(const std::vector<std::string>& argv, const MpiWorld& world,
                                   const std::vector<std::string>& hosts, const RankSession& session,
                                   double clock_bound_us, std::uint64_t activation_bytes) {
  nlohmann::json context = make_context(argv, session.backend().name());
  context["hosts"] = hosts;
  context["ranks"] = world.size();
  context["mpi_version"] = world.mpi_version();
  context["backend_details"] = session.backend().context();
  context["backend_reason"] = session.selected->reason;
  context["clock_alignment_bound_us"] = clock_bound_us;
  context["clock_alignment_method"] = kClockAlignmentMethod;
  context["activation_bytes"] = activation_bytes;
  if (const char* label = run_label()) context["run_label"] = label;
  return context;
}

}  // namespace ppb
