#include "sim/sweep.h"

#include <atomic>
#include <exception>
#include <thread>

#include "core/errors.h"
#include "schedules/generators.h"
#include "sim/simulator.h"

namespace ppb {
namespace {

void run_point(const SweepPoint& in, const CostInputs& costs, SweepResult& out) {
  out.point = in;
  if (out.point.chunks == 0) out.point.chunks = in.schedule == "interleaved" ? 2 : 1;
  Schedule schedule;
  try {
    schedule = generate_schedule(in.schedule, in.num_stages, in.num_batches, out.point.chunks);
    validate(schedule);
  } catch (const InputError& e) {
    out.skipped = true;
    out.reason = e.what();
    return;
  }
  const CostModel model = make_cost_model(costs, schedule);
  out.metrics = compute_metrics(simulate(schedule, model));
}

}  // namespace

std::vector<SweepResult> run_sweep(const std::vector<SweepPoint>& points, const CostInputs& costs, int jobs) {
  std::vector<SweepResult> results(points.size());
  std::vector<std::exception_ptr> errors(points.size());
  std::atomic<std::size_t> next{0};
  // Workers take the next point from a shared counter and write only their own
  // slot, so the output order is the points' order for any thread count.
  auto worker = [&] {
    for (std::size_t i = next++; i < points.size(); i = next++) {
      try {
        run_point(points[i], costs, results[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  if (jobs < 1) jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(jobs), points.size());
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return results;
}

}  // namespace ppb
