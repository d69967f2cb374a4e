// Subject-exclusive folds and the validation split.
#include <set>

#include <gtest/gtest.h>

#include "training/folds.h"

using namespace hicomex::training;

namespace {

Dataset dataset_of(const std::vector<std::string>& subjects, int per_subject, const std::string& kind = "manifest") {
  Dataset d;
  d.kind = kind;
  d.aus = {1};
  for (const auto& s : subjects)
    for (int i = 0; i < per_subject; ++i) {
      Sample x;
      x.subject = s;
      x.frame = i;
      x.labels = {0};
      d.samples.push_back(x);
    }
  return d;
}

std::set<std::string> subjects_of(const Dataset& d, const std::vector<std::size_t>& idx) {
  std::set<std::string> s;
  for (auto i : idx) s.insert(d.samples[i].subject);
  return s;
}

}  // namespace

TEST(StandardFolds, CoverBp4dAndDisfaSubjectsExactlyOnce) {
  for (const FoldPlan* plan : {&bp4d_standard_folds(), &disfa_standard_folds()}) {
    std::set<std::string> all;
    std::size_t n = 0;
    for (const auto& f : plan->folds) {
      all.insert(f.begin(), f.end());
      n += f.size();
    }
    EXPECT_EQ(all.size(), n) << plan->description;  // no subject twice
    EXPECT_EQ(plan->size(), 3);
  }
  EXPECT_EQ(bp4d_standard_folds().folds[0].size() + bp4d_standard_folds().folds[1].size() +
                bp4d_standard_folds().folds[2].size(),
            41u);
  EXPECT_EQ(disfa_standard_folds().fold_of("SN017"), 2);
}

TEST(StandardFolds, SplitBp4dIntoTrainAndTestWithoutSharedSubjects) {
  const Dataset d = dataset_of({"F001", "F003", "F004", "M018"}, 3, "bp4d");
  const FoldPlan plan = default_folds(d, 0, 1);
  EXPECT_EQ(plan.description, "bp4d-standard-3");
  const Split s = split_folds(d, plan, {0});
  EXPECT_EQ(subjects_of(d, s.test), (std::set<std::string>{"F001"}));
  EXPECT_EQ(subjects_of(d, s.train), (std::set<std::string>{"F003", "F004", "M018"}));
}

TEST(StandardFolds, RefuseASubjectOutsideThePartition) {
  const Dataset d = dataset_of({"F001", "F099"}, 1, "bp4d");
  EXPECT_THROW(default_folds(d, 3, 0), std::invalid_argument);
}

TEST(HashedFolds, AreDeterministicBalancedAndSeeded) {
  std::vector<std::string> subjects;
  for (int i = 0; i < 10; ++i) subjects.push_back("p" + std::to_string(i));
  const FoldPlan a = hashed_folds(subjects, 3, 7), b = hashed_folds(subjects, 3, 7), c = hashed_folds(subjects, 3, 8);
  EXPECT_EQ(a.folds, b.folds);
  EXPECT_NE(a.folds, c.folds);
  for (const auto& f : a.folds) EXPECT_TRUE(f.size() == 3 || f.size() == 4);
  EXPECT_THROW(hashed_folds({"a", "b"}, 3, 0), std::invalid_argument);
}

TEST(Split, EveryFoldAsTestKeepsSubjectsExclusive) {
  std::vector<std::string> subjects;
  for (int i = 0; i < 9; ++i) subjects.push_back("s" + std::to_string(i));
  const Dataset d = dataset_of(subjects, 4);
  const FoldPlan plan = default_folds(d, 3, 42);
  for (int f = 0; f < 3; ++f) {
    const Split s = split_folds(d, plan, {f});
    EXPECT_EQ(s.train.size() + s.test.size(), d.samples.size());
    for (const auto& subj : subjects_of(d, s.test)) EXPECT_EQ(subjects_of(d, s.train).count(subj), 0u);
  }
  EXPECT_THROW(split_folds(d, plan, {3}), std::invalid_argument);
  EXPECT_THROW(split_folds(d, plan, {0}, {0}), std::invalid_argument);
}

TEST(Split, ExclusivityCheckThrowsWhenASubjectIsOnBothSides) {
  const Dataset d = dataset_of({"alice", "bob"}, 2);
  EXPECT_NO_THROW(check_subject_exclusive(d, {0, 1}, {2, 3}));
  try {
    check_subject_exclusive(d, {0, 2}, {1, 3});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("subject alice"), std::string::npos) << e.what();
  }
}

TEST(ValidationSplit, TakesWholeSubjectsOutOfTraining) {
  std::vector<std::string> subjects;
  for (int i = 0; i < 10; ++i) subjects.push_back("s" + std::to_string(i));
  const Dataset d = dataset_of(subjects, 3);
  std::vector<std::size_t> train(d.samples.size());
  for (std::size_t i = 0; i < train.size(); ++i) train[i] = i;
  const auto tv = carve_validation(d, train, 0.2, 5);
  EXPECT_EQ(subjects_of(d, tv.validation).size(), 2u);
  EXPECT_EQ(tv.train.size() + tv.validation.size(), train.size());
  EXPECT_NO_THROW(check_subject_exclusive(d, tv.train, tv.validation));
  EXPECT_EQ(carve_validation(d, train, 0.2, 5).validation, tv.validation);
}

TEST(FoldList, ParsesOneBasedNumbersAndRanges) {
  EXPECT_EQ(parse_fold_list("1"), (std::vector<int>{0}));
  EXPECT_EQ(parse_fold_list("1,3"), (std::vector<int>{0, 2}));
  EXPECT_EQ(parse_fold_list("2-3"), (std::vector<int>{1, 2}));
  EXPECT_THROW(parse_fold_list("0"), std::invalid_argument);
  EXPECT_THROW(parse_fold_list("x"), std::invalid_argument);
}
