// cmake/write_version_header.cmake, which every build runs: the header names
// the checkout's revision at build time (not at configure time), "-dirty"
// while tracked files have uncommitted changes, and is left untouched when
// its text would not change (so an unchanged tree recompiles nothing).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/run_command.h"

namespace ppb {
namespace {

class VersionHeader : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::run_command("command -v git").exit_code != 0) GTEST_SKIP() << "git not found";
    git("init -q . && git config user.email t@example.com && git config user.name t");
    test::write_text(dir_.file("a.txt"), "one\n");
    git("add a.txt && git commit -q -m one");
    test::write_text(dir_.file("template.h.in"), "#define REV \"@PPB_GIT_REVISION@\"\n");
  }
  std::string git(const std::string& args) {
    const auto r = test::run_command("cd " + dir_.path() + " && git " + args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  // Runs the script as the build does and returns the header's text.
  std::string write_header() {
    const auto r = test::run_command(std::string(PPB_CMAKE_COMMAND) + " -DPPB_SOURCE_DIR=" + dir_.path() +
                                     " -DPPB_TEMPLATE=" + dir_.file("template.h.in") + " -DPPB_OUTPUT=" + header() +
                                     " -DPROJECT_VERSION=0.0.0 -P " + PPB_SOURCE_DIR +
                                     "/cmake/write_version_header.cmake");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return test::read_text(header());
  }
  std::string header() const { return dir_.file("out/version.h"); }
  test::TempDir dir_;
};

TEST_F(VersionHeader, NamesTheRevisionAtEachRunAndMarksUncommittedChanges) {
  EXPECT_EQ(write_header(), "#define REV \"" + git("rev-parse --short=12 HEAD") + "\"\n");

  test::write_text(dir_.file("a.txt"), "two\n");
  EXPECT_EQ(write_header(), "#define REV \"" + git("rev-parse --short=12 HEAD") + "-dirty\"\n");

  git("commit -q -am two");
  EXPECT_EQ(write_header(), "#define REV \"" + git("rev-parse --short=12 HEAD") + "\"\n");

  test::write_text(dir_.file("untracked.txt"), "build output\n");  // a build folder, say
  EXPECT_EQ(write_header().find("-dirty"), std::string::npos);
}

TEST_F(VersionHeader, AnUnchangedRevisionLeavesTheHeaderUntouched) {
  write_header();
  const auto before = std::filesystem::last_write_time(header());
  std::filesystem::last_write_time(header(), before - std::chrono::hours(1));
  write_header();
  EXPECT_EQ(std::filesystem::last_write_time(header()), before - std::chrono::hours(1));
}

TEST_F(VersionHeader, OutsideAGitCheckoutTheRevisionIsUnknown) {
  std::filesystem::remove_all(dir_.file(".git"));
  EXPECT_EQ(write_header(), "#define REV \"unknown\"\n");
}

}  // namespace
}  // namespace ppb
