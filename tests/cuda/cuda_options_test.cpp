// The CUDA backend's flags exist in every build and reject bad values with one
// line naming the flag and exit code 2.
#include <gtest/gtest.h>

#include <vector>

#include "cli/cuda_options.h"
#include "cli/sim_options.h"

namespace ppb {
namespace {

struct Parsed {
  int code = 0;
  CudaBackendOptions options;
  std::string err;
};

Parsed parse(std::vector<std::string> args) {
  Parsed p;
  CLI::App app{"test", "ppbench"};
  add_cuda_backend_options(app, p.options);
  args.insert(args.begin(), "ppbench");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStderr();
  p.code = parse_command_line(app, static_cast<int>(argv.size()), argv.data());
  p.err = testing::internal::GetCapturedStderr();
  return p;
}

TEST(CudaOptions, DefaultsAndValidValues) {
  Parsed d = parse({});
  EXPECT_EQ(d.code, -1);
  EXPECT_EQ(d.options.kernel, "spin");
  EXPECT_DOUBLE_EQ(d.options.sm_share, 1.0);
  EXPECT_TRUE(d.options.nvtx);

  Parsed p = parse({"--kernel", "memory", "--sm-share", "0.25", "--no-nvtx"});
  EXPECT_EQ(p.code, -1) << p.err;
  EXPECT_EQ(p.options.kernel, "memory");
  EXPECT_DOUBLE_EQ(p.options.sm_share, 0.25);
  EXPECT_FALSE(p.options.nvtx);
  EXPECT_EQ(parse({"--kernel", "compute", "--sm-share", "1"}).code, -1);
}

TEST(CudaOptions, BadValuesExitTwoWithOneLineNamingTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"--kernel", "gemm"}, "--kernel"},
      {{"--sm-share", "0"}, "--sm-share"},
      {{"--sm-share", "1.5"}, "--sm-share"},
      {{"--sm-share", "-0.1"}, "--sm-share"},
      {{"--sm-share", "half"}, "--sm-share"},
  };
  for (const auto& [args, flag] : bad) {
    const Parsed p = parse(args);
    EXPECT_EQ(p.code, 2) << args[0] << " " << args[1];
    EXPECT_NE(p.err.find(flag), std::string::npos) << p.err;
    EXPECT_EQ(std::count(p.err.begin(), p.err.end(), '\n'), 1) << p.err;
  }
  EXPECT_NE(parse({"--kernel", "gemm"}).err.find("expected spin, compute or memory"), std::string::npos);
  EXPECT_NE(parse({"--sm-share", "2"}).err.find("(0, 1]"), std::string::npos);
}

}  // namespace
}  // namespace ppb
