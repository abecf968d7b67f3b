// `ppsim compare` through the real command: the console and JSON outputs,
// iteration selection in a measured.json, and bad input (exit 2, one line
// naming the file or flag, nothing written).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/ppsim_command.h"

namespace ppb {
namespace {

using test::CommandResult;
using test::count_lines;
using test::ppsim;
using test::run_command;

// A run directory as ppbench writes it, made with ppsim: predicted.json from the
// given forward times, and measured.json holding one iteration per entry of
// `measured_forward` (forward times of stage 1 in ms; the others are 1 ms).
class RunDir {
 public:
  explicit RunDir(const std::vector<std::string>& measured_forward, const std::string& common = "-s 3 -b 4 --p2p-time 0.1") {
    predicted_ = dir_.file("predicted.json");
    EXPECT_EQ(ppsim(common + " -f 1 --no-visualization --timeline-json " + predicted_).exit_code, 0);
    nlohmann::json iterations = nlohmann::json::array();
    for (const std::string& f : measured_forward) {
      const std::string file = dir_.file("it.json");
      EXPECT_EQ(ppsim(common + " -f 1 " + f + " 1 --no-visualization --timeline-json " + file).exit_code, 0);
      nlohmann::json body = nlohmann::json::parse(test::read_text(file));
      body.erase("schema");
      body.erase("context");
      body["source"] = "measured";
      iterations.push_back(body);
    }
    measured_ = dir_.file("measured.json");
    test::write_text(measured_, nlohmann::json{{"schema", "ppbench.measured/1"},
                                               {"warmup", 1},
                                               {"iterations", iterations},
                                               {"context", {{"backend", "cpu"}}}}
                                    .dump());
  }
  const std::string& measured() const { return measured_; }
  const std::string& predicted() const { return predicted_; }
  std::string file(const std::string& name) const { return dir_.file(name); }
  const std::string& path() const { return dir_.path(); }

 private:
  test::TempDir dir_;
  std::string measured_, predicted_;
};

TEST(PpsimCompare, JsonDocumentOfTheMedianIteration) {
  // Stage 1's forward: 3, 1.5 and 2 ms; the median makespan is the 2 ms one (index 2).
  const RunDir run({"3", "1.5", "2"});
  const CommandResult r = ppsim("compare " + run.measured() + " " + run.predicted() + " --top 3 --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["schema"], "ppbench.compare/1");
  EXPECT_EQ(doc["measured"]["iteration"], 2);
  EXPECT_EQ(doc["measured"]["iterations"], 3);
  EXPECT_EQ(doc["measured"]["median"], true);
  EXPECT_TRUE(doc["predicted"]["iteration"].is_null());
  const double m = doc["makespan"]["measured"], p = doc["makespan"]["predicted"];
  EXPECT_GT(m, p);
  EXPECT_DOUBLE_EQ(doc["makespan"]["error"].get<double>(), (m - p) / m);
  EXPECT_DOUBLE_EQ(doc["bubble"]["error_points"].get<double>(),
                   100 * (doc["bubble"]["measured"].get<double>() - doc["bubble"]["predicted"].get<double>()));
  ASSERT_EQ(doc["worst_duration"].size(), 3u);
  // Stage 1's forwards are 1 ms longer than predicted: they are the worst durations.
  for (const auto& op : doc["worst_duration"]) {
    EXPECT_EQ(op["kind"], "F");
    EXPECT_EQ(op["stage"], 1);
    EXPECT_DOUBLE_EQ(op["duration_residual"].get<double>(), 1000.0);
  }
  EXPECT_EQ(doc["ops"].size(), 3u * 4u * 2u);
  for (const char* which : {"measured", "predicted"}) {
    ASSERT_EQ(doc["idle_breakdown"][which].size(), 3u);
    for (const auto& rank : doc["idle_breakdown"][which]) {
      const double sum = rank["warmup_cooldown"].get<double>() + rank["transfer_wait"].get<double>() +
                         rank["imbalance"].get<double>();
      EXPECT_NEAR(sum, rank["idle"].get<double>(), 1e-6);
    }
  }
  EXPECT_TRUE(doc["context"]["argv"].is_array());
}

TEST(PpsimCompare, ConsoleSaysWhichIterationAndPrintsTheTables) {
  const RunDir run({"3", "1.5", "2"});
  const CommandResult r = ppsim("compare " + run.measured() + " " + run.predicted() + " --iteration 0 --top 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("measured:  " + run.measured() + ", iteration 0 of 0..2 (--iteration)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("makespan "), std::string::npos);
  EXPECT_NE(r.out.find("points"), std::string::npos);
  EXPECT_NE(r.out.find("worst 2 ops by |start residual|"), std::string::npos);
  EXPECT_NE(r.out.find("worst 2 ops by |duration residual|"), std::string::npos);
  EXPECT_NE(r.out.find("idle time per rank, measured"), std::string::npos);
  EXPECT_NE(r.out.find("idle time per rank, predicted"), std::string::npos);
  EXPECT_NE(r.out.find("+2000.0 us"), std::string::npos) << r.out;  // F@s1 takes 3 ms instead of 1
  const CommandResult median = ppsim("compare " + run.measured() + " " + run.predicted());
  EXPECT_NE(median.out.find("iteration 2 of 0..2 (median makespan)"), std::string::npos) << median.out;
}

TEST(PpsimCompare, WritesTheJsonFileAndThePredictionAgainstItselfIsExact) {
  const RunDir run({"1"});
  const std::string out = run.file("compare.json");
  const CommandResult r = ppsim("compare " + run.predicted() + " " + run.measured() + " --json " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(test::read_text(out));
  EXPECT_EQ(doc["makespan"]["error"], 0.0);
  EXPECT_EQ(doc["bubble"]["error_points"], 0.0);
  EXPECT_EQ(doc["residuals"]["start"]["max_abs"], 0.0);
  EXPECT_EQ(doc["predicted"]["iteration"], 0);  // a measured document on either side
}

struct BadCompare {
  std::string name;
  std::string args;            // {dir}: the run directory; {m}, {p}: its files
  std::string expected_start;  // the one line on stderr, after "ppsim: error: "
};
void PrintTo(const BadCompare& b, std::ostream* out) { *out << b.name; }

class PpsimCompareBadInput : public ::testing::TestWithParam<BadCompare> {};

TEST_P(PpsimCompareBadInput, ExitsTwoWithOneLineAndWritesNothing) {
  const RunDir run({"2"});
  test::write_text(run.file("broken.json"), "{\"schema\": ");
  test::write_text(run.file("metrics.json"), "{\"schema\": \"ppbench.metrics/1\"}");
  ASSERT_EQ(ppsim("-s 2 -b 4 --no-visualization --timeline-json " + run.file("p2.json")).exit_code, 0);
  ASSERT_EQ(ppsim("-s 3 -b 4 --schedule gpipe --no-visualization --timeline-json " + run.file("gpipe.json")).exit_code, 0);
  auto expand = [&](std::string text) {
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"{dir}", run.path()},
                                   {"{m}", run.measured()}, {"{p}", run.predicted()}}) {
      for (std::size_t at; (at = text.find(from)) != std::string::npos;) text.replace(at, from.size(), to);
    }
    return text;
  };
  const std::string out = run.file("out.json");
  const std::string args = expand(GetParam().args);
  const CommandResult r = ppsim("compare " + args + (args.find("--json") == std::string::npos ? " --json " + out : ""));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("ppsim: error: " + expand(GetParam().expected_start), 0), 0u) << r.err;
  EXPECT_FALSE(test::file_exists(out));
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, PpsimCompareBadInput,
    ::testing::Values(
        BadCompare{"MissingFile", "{dir}/none.json {p}", "{dir}/none.json: cannot read"},
        BadCompare{"Directory", "{m} {dir}", "{dir}: is a directory"},
        BadCompare{"MalformedJson", "{m} {dir}/broken.json", "{dir}/broken.json: not valid JSON"},
        BadCompare{"WrongSchema", "{dir}/metrics.json {p}",
                   "{dir}/metrics.json: \"schema\" is \"ppbench.metrics/1\", expected"},
        BadCompare{"DifferentP", "{m} {dir}/p2.json",
                   "{m} and {dir}/p2.json are not the same schedule: different rank count P (3 measured, 2 predicted)"},
        BadCompare{"DifferentSchedule", "{m} {dir}/gpipe.json",
                   "{m} and {dir}/gpipe.json are not the same schedule: different schedule (1f1b measured, gpipe"},
        BadCompare{"IterationOutOfRange", "{m} {p} --iteration 1",
                   "--iteration: 1 is out of range: {m} holds 1 iterations (0..0)"},
        BadCompare{"IterationWithoutMeasured", "{p} {p} --iteration 0",
                   "--iteration: neither file is a ppbench.measured/1 document"},
        BadCompare{"NegativeTop", "{m} {p} --top -1", "--top: must not be negative"},
        BadCompare{"JsonInMissingDirectory", "{m} {p} --json {dir}/no/such.json", "--json: directory of"},
        BadCompare{"OneFile", "{m}", "predicted is required"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace ppb
