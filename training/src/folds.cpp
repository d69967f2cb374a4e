// Subject-exclusive fold plans and splits (see folds.h).
#include "training/folds.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "text_util.h"

namespace hicomex::training {
namespace {

/// FNV-1a of the name, then a splitmix64 finaliser with the seed: stable across
/// platforms and standard libraries (std::hash is not).
std::uint64_t subject_hash(const std::string& s, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  std::uint64_t z = h + seed * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::vector<std::string> hash_order(std::vector<std::string> subjects, std::uint64_t seed) {
  std::sort(subjects.begin(), subjects.end());
  subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
  std::stable_sort(subjects.begin(), subjects.end(), [seed](const std::string& a, const std::string& b) {
    return subject_hash(a, seed) < subject_hash(b, seed);
  });
  return subjects;
}

FoldPlan make_plan(std::vector<std::vector<std::string>> f, const char* name) {
  FoldPlan p;
  p.folds = std::move(f);
  p.description = name;
  return p;
}

}  // namespace

int FoldPlan::fold_of(const std::string& subject) const {
  for (int i = 0; i < size(); ++i)
    if (std::find(folds[i].begin(), folds[i].end(), subject) != folds[i].end()) return i;
  return -1;
}

const FoldPlan& bp4d_standard_folds() {
  static const FoldPlan plan = make_plan(
      {{"F001", "F002", "F008", "F009", "F010", "F016", "F018", "F023", "M001", "M004", "M007", "M008", "M012", "M014"},
       {"F003", "F005", "F011", "F013", "F020", "F022", "M002", "M005", "M010", "M011", "M013", "M016", "M017", "M018"},
       {"F004", "F006", "F007", "F012", "F014", "F015", "F017", "F019", "F021", "M003", "M006", "M009", "M015"}},
      "bp4d-standard-3");
  return plan;
}

const FoldPlan& disfa_standard_folds() {
  static const FoldPlan plan =
      make_plan({{"SN001", "SN002", "SN009", "SN010", "SN016", "SN026", "SN027", "SN030", "SN032"},
                 {"SN006", "SN011", "SN012", "SN013", "SN018", "SN021", "SN024", "SN028", "SN031"},
                 {"SN003", "SN004", "SN005", "SN007", "SN008", "SN017", "SN023", "SN025", "SN029"}},
                "disfa-standard-3");
  return plan;
}

FoldPlan hashed_folds(std::vector<std::string> subjects, int k, std::uint64_t seed) {
  if (k < 2) throw std::invalid_argument("folds: k = " + std::to_string(k) + ", need at least 2");
  const auto order = hash_order(std::move(subjects), seed);
  if (static_cast<int>(order.size()) < k)
    throw std::invalid_argument("folds: " + std::to_string(order.size()) + " subject(s) cannot fill " +
                                std::to_string(k) + " subject-exclusive folds");
  FoldPlan p;
  p.folds.resize(k);
  for (std::size_t i = 0; i < order.size(); ++i) p.folds[i % k].push_back(order[i]);
  for (auto& f : p.folds) std::sort(f.begin(), f.end());
  p.description = "hash-" + std::to_string(k) + "-seed-" + std::to_string(seed);
  return p;
}

FoldPlan default_folds(const Dataset& d, int k, std::uint64_t seed) {
  if (k == 0) k = 3;
  const FoldPlan* standard = d.kind == "bp4d"    ? &bp4d_standard_folds()
                             : d.kind == "disfa" ? &disfa_standard_folds()
                                                 : nullptr;
  if (standard && k == 3) {
    for (const auto& s : d.subjects())
      if (standard->fold_of(s) < 0)
        throw std::invalid_argument("subject " + s + " of " + d.source + " is in no fold of " + standard->description +
                                    "; use hashed folds (--fold-plan hash)");
    return *standard;
  }
  return hashed_folds(d.subjects(), k, seed);
}

void check_subject_exclusive(const Dataset& d, const std::vector<std::size_t>& a, const std::vector<std::size_t>& b) {
  std::set<std::string> in_a;
  for (auto i : a) in_a.insert(d.samples.at(i).subject);
  for (auto i : b)
    if (in_a.count(d.samples.at(i).subject))
      throw std::runtime_error("subject " + d.samples.at(i).subject +
                               " appears on both sides of a split (train and test): folds are not subject-exclusive");
}

Split split_folds(const Dataset& d, const FoldPlan& plan, const std::vector<int>& test_folds,
                  const std::vector<int>& train_folds) {
  if (test_folds.empty()) throw std::invalid_argument("split: no test fold given");
  std::vector<int> role(plan.size(), 0);  // 0 unused, 1 train, 2 test
  for (int f : test_folds) {
    if (f < 0 || f >= plan.size())
      throw std::invalid_argument("test fold " + std::to_string(f + 1) + " out of range 1-" +
                                  std::to_string(plan.size()));
    role[f] = 2;
  }
  for (int f = 0; f < plan.size() && train_folds.empty(); ++f)
    if (role[f] == 0) role[f] = 1;
  for (int f : train_folds) {
    if (f < 0 || f >= plan.size())
      throw std::invalid_argument("train fold " + std::to_string(f + 1) + " out of range 1-" +
                                  std::to_string(plan.size()));
    if (role[f] == 2) throw std::invalid_argument("fold " + std::to_string(f + 1) + " is both a train and a test fold");
    role[f] = 1;
  }
  std::map<std::string, int> fold_cache;
  Split s;
  for (std::size_t i = 0; i < d.samples.size(); ++i) {
    const auto& subj = d.samples[i].subject;
    auto it = fold_cache.find(subj);
    if (it == fold_cache.end()) it = fold_cache.emplace(subj, plan.fold_of(subj)).first;
    if (it->second < 0) continue;
    if (role[it->second] == 1)
      s.train.push_back(i);
    else if (role[it->second] == 2)
      s.test.push_back(i);
  }
  check_subject_exclusive(d, s.train, s.test);
  return s;
}

TrainValidation carve_validation(const Dataset& d, const std::vector<std::size_t>& train, double fraction,
                                 std::uint64_t seed) {
  std::vector<std::string> subjects;
  for (auto i : train) subjects.push_back(d.samples.at(i).subject);
  const auto order = hash_order(subjects, seed ^ 0x5a17da7au);
  if (order.size() < 2)
    throw std::invalid_argument("validation split: the training set has " + std::to_string(order.size()) +
                                " subject(s); at least 2 are needed to keep one out");
  auto n_val = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(order.size())));
  n_val = std::clamp<std::size_t>(n_val, 1, order.size() - 1);
  const std::set<std::string> val(order.begin(), order.begin() + static_cast<long>(n_val));
  TrainValidation tv;
  for (auto i : train) (val.count(d.samples[i].subject) ? tv.validation : tv.train).push_back(i);
  check_subject_exclusive(d, tv.train, tv.validation);
  return tv;
}

std::vector<int> parse_fold_list(const std::string& text) {
  std::vector<int> out;
  for (const auto& part : text::split(text, ',')) {
    const auto dash = part.find('-');
    auto lo = text::parse_int(part.substr(0, dash));
    auto hi = dash == std::string::npos ? lo : text::parse_int(part.substr(dash + 1));
    if (!lo || !hi || *lo < 1 || *hi < *lo)
      throw std::invalid_argument("fold list '" + text + "': '" + part + "' is not a fold number or range (1-based)");
    for (long long f = *lo; f <= *hi; ++f) out.push_back(static_cast<int>(f - 1));
  }
  return out;
}

}  // namespace hicomex::training
