// The facial action units this project knows, with their FACS names.
// The one catalogue: overlay labels, CSV headers and model metadata read it.
#pragma once
#include <string>
#include <vector>

namespace hicomex {

struct AuInfo {
  int id;            ///< FACS number, e.g. 12
  const char* name;  ///< FACS name, e.g. "Lip Corner Puller"
};

/// Every AU in the catalogue, in ascending id order.
const std::vector<AuInfo>& au_catalog();
/// The entry for `id`; throws std::invalid_argument naming the id if unknown.
const AuInfo& au_info(int id);
bool is_known_au(int id);
/// "AU12" for 12.
std::string au_label(int id);

/// AU sets evaluated in the literature (paper section 4.1).
const std::vector<int>& bp4d_aus();   ///< 1 2 4 6 7 10 12 14 15 17 23 24
const std::vector<int>& disfa_aus();  ///< 1 2 4 6 9 12 25 26
/// AUs the synthetic face generator renders (training/synth, rendered_aus()),
/// ascending. The one list: the generator reads it from here (header only, so
/// it needs no model library).
inline constexpr int kSyntheticAus[] = {1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 24, 25, 26};
/// kSyntheticAus as a vector.
const std::vector<int>& synthetic_aus();

}  // namespace hicomex
