// validate() names the first offending op for each kind of broken schedule.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "schedules/generators.h"

namespace ppb {
namespace {

std::string validation_error(const Schedule& s) {
  try {
    validate(s);
  } catch (const ScheduleError& e) {
    return e.what();
  }
  return "";
}

Schedule two_rank(std::vector<Op> rank0, std::vector<Op> rank1, int microbatches) {
  Schedule s;
  s.name = "test";
  s.num_ranks = 2;
  s.num_microbatches = microbatches;
  s.stage_rank = plain_placement(2);
  s.ops = {std::move(rank0), std::move(rank1)};
  return s;
}

constexpr OpKind F = OpKind::F, B = OpKind::B, W = OpKind::W;

TEST(Validate, AcceptsAHandWrittenSchedule) {
  EXPECT_EQ(validation_error(two_rank({{F, 0, 0}, {B, 0, 0}}, {{F, 1, 0}, {B, 1, 0}}, 1)), "");
}

TEST(Validate, NamesAMissingOp) {
  const std::string e = validation_error(two_rank({{F, 0, 0}}, {{F, 1, 0}, {B, 1, 0}}, 1));
  EXPECT_NE(e.find("B0@s0"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
}

TEST(Validate, NamesARepeatedOp) {
  const std::string e = validation_error(two_rank({{F, 0, 0}, {F, 0, 0}, {B, 0, 0}}, {{F, 1, 0}, {B, 1, 0}}, 1));
  EXPECT_NE(e.find("F0@s0"), std::string::npos) << e;
  EXPECT_NE(e.find("twice"), std::string::npos) << e;
}

TEST(Validate, NamesAnOpOnTheWrongRank) {
  const std::string e = validation_error(two_rank({{F, 0, 0}, {B, 0, 0}, {F, 1, 0}}, {{B, 1, 0}}, 1));
  EXPECT_NE(e.find("F0@s1"), std::string::npos) << e;
  EXPECT_NE(e.find("belongs on rank 1"), std::string::npos) << e;
}

TEST(Validate, NamesAnOpOutOfRange) {
  const std::string e = validation_error(two_rank({{F, 0, 0}, {B, 0, 0}, {F, 0, 5}}, {{F, 1, 0}, {B, 1, 0}}, 1));
  EXPECT_NE(e.find("F5@s0"), std::string::npos) << e;
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
}

TEST(Validate, NamesABackwardBeforeItsForward) {
  const std::string e = validation_error(two_rank({{B, 0, 0}, {F, 0, 0}}, {{F, 1, 0}, {B, 1, 0}}, 1));
  EXPECT_NE(e.find("B0@s0"), std::string::npos) << e;
  EXPECT_NE(e.find("comes before F0@s0"), std::string::npos) << e;
}

TEST(Validate, NamesAWeightGradientBeforeItsBackward) {
  Schedule s = two_rank({{F, 0, 0}, {W, 0, 0}, {B, 0, 0}}, {{F, 1, 0}, {B, 1, 0}, {W, 1, 0}}, 1);
  s.split_backward = true;
  const std::string e = validation_error(s);
  EXPECT_NE(e.find("W0@s0"), std::string::npos) << e;
}

TEST(Validate, RejectsWeightGradientsInOnlyPartOfTheSchedule) {
  Schedule s = two_rank({{F, 0, 0}, {B, 0, 0}, {W, 0, 0}}, {{F, 1, 0}, {B, 1, 0}}, 1);
  s.split_backward = true;
  const std::string e = validation_error(s);
  EXPECT_NE(e.find("W0@s1"), std::string::npos) << e;
}

TEST(Validate, NamesTheFirstOpOfADeadlock) {
  // Rank 0 waits in B0 for rank 1's B0, which sits behind F1@s1, which needs
  // rank 0's F1: a cycle, whatever the buffering.
  const std::string e = validation_error(two_rank({{F, 0, 0}, {B, 0, 0}, {F, 0, 1}, {B, 0, 1}},
                                                  {{F, 1, 1}, {B, 1, 1}, {F, 1, 0}, {B, 1, 0}}, 2));
  EXPECT_NE(e.find("deadlock"), std::string::npos) << e;
  EXPECT_NE(e.find("B0@s0 (rank 0, position 1)"), std::string::npos) << e;
  // F0@s0 ran just before it: only the dependency that never ran is named.
  EXPECT_NE(e.find("waits for B0@s1, which can never run"), std::string::npos) << e;
}

TEST(Validate, RejectsAPlacementWithUnevenChunks) {
  Schedule s = two_rank({{F, 0, 0}, {B, 0, 0}}, {{F, 1, 0}, {B, 1, 0}}, 1);
  s.stage_rank = {0, 0};
  EXPECT_NE(validation_error(s).find("rank 0 holds 2 stages"), std::string::npos) << validation_error(s);
}

TEST(Placement, VShapeMirrorsOddChunks) {
  EXPECT_EQ(vshape_placement(3, 2), (std::vector<int>{0, 1, 2, 2, 1, 0}));
  EXPECT_EQ(interleaved_placement(3, 2), (std::vector<int>{0, 1, 2, 0, 1, 2}));
}

}  // namespace
}  // namespace ppb
