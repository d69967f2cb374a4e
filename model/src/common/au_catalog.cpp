// The FACS action unit catalogue (hicomex/au_catalog.h).
#include "hicomex/au_catalog.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace hicomex {

// Main codes of the Facial Action Coding System (Ekman, Friesen & Hager 2002),
// with the names the manual and the AU datasets (BP4D, DISFA) use.
const std::vector<AuInfo>& au_catalog() {
  static const std::vector<AuInfo> catalog = {
      {1, "Inner Brow Raiser"},
      {2, "Outer Brow Raiser"},
      {4, "Brow Lowerer"},
      {5, "Upper Lid Raiser"},
      {6, "Cheek Raiser"},
      {7, "Lid Tightener"},
      {9, "Nose Wrinkler"},
      {10, "Upper Lip Raiser"},
      {11, "Nasolabial Deepener"},
      {12, "Lip Corner Puller"},
      {13, "Sharp Lip Puller"},
      {14, "Dimpler"},
      {15, "Lip Corner Depressor"},
      {16, "Lower Lip Depressor"},
      {17, "Chin Raiser"},
      {18, "Lip Pucker"},
      {19, "Tongue Show"},
      {20, "Lip Stretcher"},
      {21, "Neck Tightener"},
      {22, "Lip Funneler"},
      {23, "Lip Tightener"},
      {24, "Lip Pressor"},
      {25, "Lips Part"},
      {26, "Jaw Drop"},
      {27, "Mouth Stretch"},
      {28, "Lip Suck"},
      {41, "Lid Droop"},
      {42, "Slit"},
      {43, "Eyes Closed"},
      {44, "Squint"},
      {45, "Blink"},
      {46, "Wink"},
  };
  return catalog;
}

namespace {
const AuInfo* find_au(int id) {
  const auto& c = au_catalog();
  auto it = std::lower_bound(c.begin(), c.end(), id, [](const AuInfo& a, int value) { return a.id < value; });
  return (it != c.end() && it->id == id) ? &*it : nullptr;
}
}  // namespace

const AuInfo& au_info(int id) {
  if (const AuInfo* info = find_au(id)) return *info;
  throw std::invalid_argument("unknown action unit AU" + std::to_string(id) + " (not in the FACS catalogue)");
}

bool is_known_au(int id) { return find_au(id) != nullptr; }

std::string au_label(int id) { return "AU" + std::to_string(id); }

const std::vector<int>& bp4d_aus() {
  static const std::vector<int> aus = {1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 23, 24};
  return aus;
}

const std::vector<int>& disfa_aus() {
  static const std::vector<int> aus = {1, 2, 4, 6, 9, 12, 25, 26};
  return aus;
}

const std::vector<int>& synthetic_aus() {
  static const std::vector<int> aus(std::begin(kSyntheticAus), std::end(kSyntheticAus));
  return aus;
}

}  // namespace hicomex
