#include "apps/ppbench_options.h"

#include "apps/ppbench_run_setup.h"
#include "core/errors.h"

namespace ppb {

void add_ppbench_options(CLI::App& app, PpbenchOptions& o) {
  add_schedule_options(app, o.schedule);
  // Messages must exist on the CPU backend: a small activation by default.
  o.costs.activation_bytes = 64 * 1024;
  o.costs.activation_bytes_known = true;
  add_cost_options(app, o.costs);
  // Shared flags whose meaning differs here: P comes from mpirun.
  app.get_option("--num-stages")
      ->description("pipeline ranks P (default: the number of MPI ranks, which it must equal)")
      ->default_str("");
  app.get_option("--activation-bytes")->description("bytes of every activation and gradient message")
      ->default_str(std::to_string(o.costs.activation_bytes));
  app.get_option("--calibration")
      ->description("predict with this ppbench.calibration/1 file's stage times and link costs (the time flags "
                    "still set each op's target)");
  add_measure_options(app, o.measure);
  app.add_option("--iters", o.iters, "measured iterations")->capture_default_str();
  app.add_option("--out", o.out, "run directory (default runs/<date>-<schedule>-P<P>-M<M>); never overwritten");
  app.add_option("--max-error", o.max_error_pct,
                 "exit 4 when |measured - predicted| / measured makespan exceeds this many percent");
  app.add_option("--inject-fault", o.faults, "RANK:OP:hang|crash|slow=X (docs/runtime.md), repeatable");
  app.add_option("--width", o.width, "columns of the console timeline (default: terminal width)");
}

void options_after_parse(const CLI::App& app, PpbenchOptions& o) {
  o.num_stages_given = app.get_option("--num-stages")->count() > 0;
}

void check_ppbench_options(const PpbenchOptions& o) {
  check_measure_options(o.measure);
  PPB_REQUIRE_INPUT(o.iters >= 1, "--iters: at least one measured iteration (got ", o.iters, ")");
  check_max_error(o.max_error_pct);
  PPB_REQUIRE_INPUT(o.width == 0 || o.width >= 10, "--width: must be at least 10 columns (got ", o.width, ")");
}

}  // namespace ppb
