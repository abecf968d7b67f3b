// `ppbench sweep` through the real command under mpirun: its files, their
// agreement with each other and with the simulator, every point's run
// directory read back by `ppsim compare`, bad input, and a rank failing in the
// middle of a sweep. Label "mpi"; short ops and two iterations keep it quick;
// no timing is asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "analysis/metrics.h"
#include "mpi_commands.h"
#include "render/image.h"
#include "schedules/generators.h"
#include "sim/cost_model.h"
#include "sim/simulator.h"

namespace ppb::test {
namespace {

std::string sweep(int ranks) { return mpirun(ranks) + " sweep --backend cpu"; }

// Rows of a CSV without quoted commas in the numbers, keyed by column name.
std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::istringstream in(read_text(path));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream hs(line);
  for (std::string f; std::getline(hs, f, ',');) header.push_back(f);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::map<std::string, std::string> row;
    std::size_t at = 0;
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (c + 1 == header.size()) {  // the reason: the rest of the line, quotes removed
        std::string rest = line.substr(at);
        if (rest.size() >= 2 && rest.front() == '"') rest = rest.substr(1, rest.size() - 2);
        row[header[c]] = rest;
        break;
      }
      const std::size_t comma = line.find(',', at);
      row[header[c]] = line.substr(at, comma - at);
      at = comma + 1;
    }
    rows.push_back(row);
  }
  return rows;
}

// No ".tmp." entry anywhere under `root`: every directory written was finished.
void expect_no_temporary_entries(const std::string& root, const std::string& log) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path() << "\n" << log;
  }
}

// The simulator's bubble for the point, with the sweep's flags (-f 0.5
// --backward-times 1, free links by default).
double simulated_bubble(const std::string& schedule, int p, int m) {
  CostInputs costs;
  costs.forward_ms = {0.5};
  costs.backward_ms = {1.0};
  costs.activation_bytes = 65536;
  costs.activation_bytes_known = true;
  const Schedule s = generate_schedule(schedule, p, m, schedule == "interleaved" ? 2 : 1);
  return compute_metrics(simulate(s, make_cost_model(costs, s))).bubble_fraction;
}

TEST(PpbenchSweep, MeasuresEveryPointAndWritesAgreeingFiles) {
  TempDir dir;
  const std::string out = dir.file("sweep");
  const CommandResult r = run_command(sweep(2) + " --schedule gpipe,1f1b,interleaved -b 1,2,3,4 -f 0.5 "
                                                 "--backward-times 1 --iters 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("ppbench: backend cpu (requested), 2 ranks\nppbench sweep: P=2; gpipe, 1f1b, interleaved x M "
                        "= 1, 2, 3, 4: 10 points to measure, 2 skipped; ", 0),
            0u)
      << r.out;
  for (int i = 1; i <= 12; ++i) EXPECT_EQ(count_of(r.out, "ppbench sweep: [" + std::to_string(i) + "/12] "), 1) << i;
  EXPECT_NE(r.out.find("10 points measured, 2 skipped."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ppbench: wrote " + out + "\n"), std::string::npos) << r.out;

  const auto rows = read_csv(out + "/sweep.csv");
  const nlohmann::json j = load_json(out + "/sweep.json");
  EXPECT_EQ(j["schema"], "ppbench.sweep/1");
  EXPECT_EQ(j["context"]["backend"], "cpu");
  EXPECT_EQ(j["context"]["ranks"], 2);
  EXPECT_GE(j["context"]["clock_alignment_bound_us"].get<double>(), 0);
  ASSERT_EQ(rows.size(), 12u);
  ASSERT_EQ(j["points"].size(), 12u);
  std::size_t i = 0;
  for (const std::string schedule : {"gpipe", "1f1b", "interleaved"}) {
    for (int m = 1; m <= 4; ++m, ++i) {
      SCOPED_TRACE(schedule + " M=" + std::to_string(m));
      const auto& row = rows[i];
      const nlohmann::json& point = j["points"][i];
      EXPECT_EQ(row.at("schedule"), schedule);
      EXPECT_EQ(row.at("num_microbatches"), std::to_string(m));
      EXPECT_EQ(point["num_microbatches"], m);
      if (schedule == "interleaved" && m % 2 == 1) {
        EXPECT_EQ(row.at("status"), "skipped");
        EXPECT_EQ(point["status"], "skipped");
        EXPECT_NE(row.at("reason").find("multiple of the stage count"), std::string::npos) << row.at("reason");
        EXPECT_EQ(point["reason"], row.at("reason"));
        EXPECT_FALSE(std::filesystem::exists(out + "/points/" + schedule + "-M" + std::to_string(m)));
        continue;
      }
      ASSERT_EQ(row.at("status"), "ok");
      ASSERT_EQ(point["status"], "ok");
      // CSV and JSON agree.
      const double measured = point["measured"]["bubble_fraction"].get<double>();
      const double predicted = point["predicted"]["bubble_fraction"].get<double>();
      EXPECT_NEAR(std::stod(row.at("measured_bubble")), measured, 1e-9);
      EXPECT_NEAR(std::stod(row.at("predicted_bubble")), predicted, 1e-9);
      EXPECT_NEAR(std::stod(row.at("measured_makespan_us")), point["measured"]["makespan"].get<double>(), 1e-3);
      EXPECT_NEAR(std::stod(row.at("makespan_error_pct")), 100 * point["error"]["makespan_rel"].get<double>(), 1e-6);
      EXPECT_NEAR(std::stod(row.at("bubble_error_pp")), point["error"]["bubble_pp"].get<double>(), 1e-6);
      // The prediction is the simulator's for this point; the analytic
      // formula is the run's: (P-1)/(M+P-1), (P-1)/(vM+P-1) for interleaved.
      EXPECT_NEAR(predicted, simulated_bubble(schedule, 2, m), 1e-12);
      const double v = schedule == "interleaved" ? 2 : 1;
      EXPECT_NEAR(point["analytic_bubble"].get<double>(), 1.0 / (v * m + 1), 1e-12);
      EXPECT_NEAR(std::stod(row.at("analytic_bubble")), 1.0 / (v * m + 1), 1e-9);
      EXPECT_GE(measured, 0);
      EXPECT_LT(measured, 1);
      EXPECT_GE(point["measured"]["peak_activations"][0].get<int>(), 1);
      EXPECT_GE(std::stoull(row.at("peak_buffer_bytes")), 65536u);

      // The point's run directory, as a run writes it, and what ppsim compare makes of it.
      const std::string point_dir = out + "/" + point["directory"].get<std::string>();
      EXPECT_EQ(point["directory"], "points/" + schedule + "-M" + std::to_string(m));
      const nlohmann::json mj = load_json(point_dir + "/measured.json");
      EXPECT_EQ(mj["schema"], "ppbench.measured/1");
      EXPECT_EQ(mj["iterations"].size(), 2u);
      EXPECT_EQ(load_json(point_dir + "/predicted.json")["schema"], "ppbench.timeline/1");
      const nlohmann::json summary = load_json(point_dir + "/summary.json");
      EXPECT_EQ(summary["measured"]["median_iteration"]["bubble_fraction"].get<double>(), measured);
      EXPECT_EQ(summary["predicted"]["bubble_fraction"].get<double>(), predicted);
      if (m == 4) {
        const CommandResult compare = run_command(std::string(PPB_PPSIM_PATH) + " compare " + point_dir +
                                                  "/measured.json " + point_dir + "/predicted.json --json -");
        ASSERT_EQ(compare.exit_code, 0) << compare.err;
        const nlohmann::json c = nlohmann::json::parse(compare.out);
        EXPECT_DOUBLE_EQ(c["bubble"]["measured"].get<double>(), measured) << compare.out;
        EXPECT_EQ(c["measured"]["median"], true) << compare.out;  // the median iteration, as the sweep took
      }
    }
  }
  EXPECT_EQ(std::filesystem::exists(out + "/sweep.png"), image_output_available());
  EXPECT_EQ(j["complete"], true);
  expect_no_temporary_entries(dir.path(), r.err);
}

TEST(PpbenchSweep, BadInputExits2OnEveryRankNamingTheFlagAndWritesNothing) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--schedule gpipe,nope", "--schedule: unknown schedule 'nope'"},
      {"-b 0,2", "--num-batches: must be positive integers (got 0)"},
      {"-b 2,2", "--num-batches: '2' given twice"},
      {"--schedule interleaved -b 1,3", "--num-batches: no point of the sweep can run at P=2"},
      {"-b 2 -f 1,2,3", "--forward-times: expected 1 or 2 values"},
      {"-b 2 --iters 0", "--iters: at least one measured iteration"},
      {"-b 2 --chunks 1", "--chunks: interleaved needs at least 2"},
      {"-b 2 --inject-fault 5:F0:hang", "--inject-fault: '5:F0:hang': rank must be 0..1"},
      {"-b 2 --inject-fault 1:F7:crash", "--inject-fault: '1:F7:crash'"},  // M=2 has no F7
      {"-b 2 --max-error -1", "--max-error: must be a percentage"},
      {"-b 2 --warmup -1", "--warmup: must not be negative"},
      // A flag that a run has and a sweep cannot honour is refused by name, not
      // ignored (--chunks without interleaved, as a run refuses it) and not
      // lost in CLI11's "arguments were not expected".
      {"-b 2 --schedule gpipe,1f1b --chunks 3", "--chunks: only the interleaved schedule has chunks"},
      {"-b 2 --num-stages 2", "--num-stages: not a sweep flag"},
      {"-b 2 --schedule-file s.json", "--schedule-file: not a sweep flag"},
      {"-b 2 --dump-schedule s.json", "--dump-schedule: not a sweep flag"},
      {"-b 2 --width 80", "--width: not a sweep flag"},
  };
  for (const auto& [flags, message] : cases) {
    const CommandResult r = run_command("cd " + dir.path() + " && " + sweep(2) + " " + flags);
    EXPECT_EQ(r.exit_code, 2) << flags << ": " << r.err;
    // One line per rank (mpirun adds its own banner after them).
    EXPECT_EQ(count_of(r.err, "ppbench: error: " + message), 2) << flags << ": " << r.err;
    EXPECT_EQ(count_of(r.err, "ppbench: error: "), 2) << flags << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << flags << ": " << r.out;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(PpbenchSweep, ExistingOutIsRefused) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("taken"));
  write_text(dir.file("taken/keep"), "x");
  const CommandResult r = run_command(sweep(2) + " -b 1 --iters 1 --out " + dir.file("taken"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ppbench: error: --out: '" + dir.file("taken") + "' already exists"), std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(read_text(dir.file("taken/keep")), "x");
}

// The sweep directory is written at the end: a --out that cannot be created
// must be refused before the first point is measured, not after the last.
TEST(PpbenchSweep, OutThatCannotBeCreatedIsRefusedBeforeAnyPoint) {
  TempDir dir;
  write_text(dir.file("a-file"), "x");
  for (const std::string& out : std::vector<std::string>{dir.file("a-file/sweep"), dir.file("a-file/deeper/sweep")}) {
    SCOPED_TRACE(out);
    const CommandResult r = run_command(sweep(2) + " --schedule gpipe -b 1 --iters 1 --out " + out);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("ppbench: error: --out: cannot create '" + out + "': '" + dir.file("a-file") +
                         "' is not a directory"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;  // no point was measured
  }
  EXPECT_EQ(read_text(dir.file("a-file")), "x");
}

// SIGINT or SIGTERM to mpirun once the last point is measured lands while
// rank 0 writes that point and the chart (about a second for these 20 points
// here): the signal waits until the files are whole, then ends the job.
// (A signal that comes earlier or later leaves the points written so far, or
// the whole sweep: either passes.)
TEST(PpbenchSweep, InterruptWhileWritingLeavesNoTemporaryDirectory) {
  for (const std::string& signal : std::vector<std::string>{"INT", "TERM"}) {
    SCOPED_TRACE(signal);
    TempDir dir;
    const std::string log = dir.file("log");
    const std::string command = sweep(4) + " -b 4,8,16,32,64 -f 0.1 --backward-times 0.2 --iters 2 --out sweep";
    run_command("cd " + dir.path() + " && { " + command + " > " + log + " 2>&1 & pid=$!; for i in $(seq 3000); do " +
                "grep -q '\\[20/20\\]' " + log + " && break; sleep 0.01; done; kill -" + signal +
                " $pid; wait $pid; }");
    EXPECT_NE(read_text(log).find("[20/20]"), std::string::npos) << read_text(log);
    expect_no_temporary_entries(dir.path(), read_text(log));
    // Whatever was written is whole: sweep.json lists each point it holds.
    const nlohmann::json j = load_json(dir.file("sweep/sweep.json"));
    for (const auto& point : j["points"]) {
      EXPECT_TRUE(file_exists(dir.file("sweep/" + point["directory"].get<std::string>() + "/summary.json"))) << point;
    }
  }
}

// A fault that names F3 hits only the M=4 points: the sweep has measured
// M=1 and M=2 when rank 1 fails, and keeps them: their run directories and
// sweep.csv / sweep.json with those two points, marked incomplete.
TEST(PpbenchSweep, RankFailingInALaterPointExits3AndKeepsTheFinishedPoints) {
  for (const std::string action : {"crash", "hang"}) {
    SCOPED_TRACE(action);
    TempDir dir;
    const CommandResult r = run_command("cd " + dir.path() + " && " + sweep(2) + " --schedule gpipe -b 1,2,4 -f 0.5 "
                                        "--backward-times 1 --iters 1 --timeout 2 --out sweep --inject-fault 1:F3:" +
                                        action);
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.out.find("ppbench sweep: [2/3] gpipe M=2: makespan"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("[3/3]"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("ppbench: wrote"), std::string::npos) << r.out;
    const std::string said = action == "crash" ? "ppbench: rank 1 crashed at F3@s1 in iteration 0"
                                               : "ppbench: rank 1 timed out in iteration 0";
    EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
    const nlohmann::json j = load_json(dir.file("sweep/sweep.json"));
    EXPECT_EQ(j["complete"], false);
    ASSERT_EQ(j["points"].size(), 2u);
    EXPECT_EQ(read_csv(dir.file("sweep/sweep.csv")).size(), 2u);
    for (int m : {1, 2}) {
      EXPECT_EQ(load_json(dir.file("sweep/points/gpipe-M" + std::to_string(m) + "/measured.json"))["iterations"].size(),
                1u);
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("sweep/points/gpipe-M4")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("sweep/sweep.png")));
    expect_no_temporary_entries(dir.path(), r.err);
  }
}

// sweep.json's plan is what a reader has to re-predict a point: the link
// and optimizer flags too, and no v when no point is interleaved.
TEST(PpbenchSweep, PlanHoldsEveryFlagOfThePrediction) {
  TempDir dir;
  const std::string out = dir.file("sweep");
  const CommandResult r = run_command(sweep(2) + " --schedule 1f1b -b 2 --iters 1 --p2p-latency 0.01 --bandwidth 20 "
                                                 "--optimizer-time 0.2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json plan = load_json(out + "/sweep.json")["plan"];
  EXPECT_TRUE(plan["p2p_time_ms"].is_null()) << plan;
  EXPECT_DOUBLE_EQ(plan["p2p_latency_ms"].get<double>(), 0.01) << plan;
  EXPECT_DOUBLE_EQ(plan["bandwidth_gbps"].get<double>(), 20) << plan;
  EXPECT_DOUBLE_EQ(plan["optimizer_ms"].get<double>(), 0.2) << plan;
  EXPECT_TRUE(plan["chunks"].is_null()) << plan;
}

TEST(PpbenchSweep, MaxErrorExceededExits4AndStillWrites) {
  TempDir dir;
  const std::string out = dir.file("sweep");
  const CommandResult r =
      run_command(sweep(2) + " --schedule 1f1b -b 2 --iters 1 --max-error 0.000001 --out " + out);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("ppbench: error: --max-error: makespan error "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" at 1f1b M=2 exceeds 1e-06%"), std::string::npos) << r.err;
  EXPECT_TRUE(file_exists(out + "/sweep.csv"));
}

}  // namespace
}  // namespace ppb::test
