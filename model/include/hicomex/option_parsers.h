// The one parser of each option text that the element, the tools and the
// library share: device, precision and AU decision thresholds. Torch-free.
// Every failure is an OptionError (DeviceError for the device) whose message
// names the option, the offending token and the valid forms.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hicomex/errors.h"

namespace hicomex {

// ---- device ---------------------------------------------------------------

/// The valid device texts, for messages and help: "auto, cpu, cuda or cuda:N".
extern const char* const kDeviceForms;

struct DeviceSpec {
  enum class Kind { Auto, Cpu, Cuda };
  Kind kind = Kind::Auto;
  int index = -1;  ///< "cuda:N": N; -1 otherwise ("cuda" is the first GPU)
};

/// "auto", "cpu", "cuda" or "cuda:N" (exactly; N a number). Throws DeviceError
/// naming the text and the valid forms.
DeviceSpec parse_device(const std::string& text);
/// The text parse_device() reads back: "auto", "cpu", "cuda", "cuda:1".
std::string to_string(const DeviceSpec& device);

/// The device `text` means on this machine: "cpu" or "cuda:N" ("auto": the
/// first CUDA GPU when LibTorch sees one, else the CPU). Throws DeviceError for
/// a text that is no device, or a CUDA device this machine does not have (the
/// message then says "no CUDA device").
std::string resolve_device(const std::string& text);

// ---- precision ------------------------------------------------------------

/// Arithmetic of the AU network (AuEngineOptions::precision).
enum class Precision { Auto, Fp32, Bf16, Fp16 };
/// "auto", "fp32", "bf16" or "fp16". Throws OptionError("precision", ...).
Precision parse_precision(const std::string& text);
const char* to_string(Precision precision);
/// Every precision text, in the order above (for CLI checks and help).
const std::vector<std::string>& precision_names();

// ---- AU decision thresholds -------------------------------------------------

/// The threshold grammar, one line for help texts and messages.
extern const char* const kThresholdForms;

/// A threshold text, parsed but not yet tied to a model. The grammar (spaces
/// around tokens are ignored; numbers in [0, 1] with a '.' whatever the locale):
///   ""                    the model's own thresholds
///   "0.4"                 one threshold for every AU
///   "AU12=0.3,AU4=0.6"    those AUs (also "au12=", "12="); the others keep the model's
///   "0.3,0.5,...,0.4"     one value per AU, in the model's AU order (as many as it has AUs)
/// Named and positional entries do not mix.
struct ThresholdSpec {
  std::optional<float> all;                   ///< one value for every AU
  std::vector<std::pair<int, float>> per_au;  ///< (FACS id, threshold), in the order given
  std::vector<float> in_model_order;          ///< positional list (two or more values)
  std::string text;                           ///< as given (trimmed), for messages
  bool empty() const { return !all && per_au.empty() && in_model_order.empty(); }
};

/// Parses a threshold text. Throws OptionError("threshold", token, ...) naming
/// the offending token and the valid forms.
ThresholdSpec parse_threshold_spec(const std::string& text);

/// AnalyzerOptions::thresholds for a model with `au_ids` and
/// `model_thresholds`: empty (the model's), one value, or one per AU. Throws
/// OptionError naming an AU the model does not have (and listing its AUs), or
/// a positional list whose length is not the model's AU count.
std::vector<float> resolve_thresholds(const ThresholdSpec& spec, const std::vector<int>& au_ids,
                                      const std::vector<float>& model_thresholds);

// ---- for command lines ------------------------------------------------------

/// "" when `parse(text)` accepts the text, else the message of the OptionError
/// it throws: a CLI validator through the one parser, e.g. CLI11's
/// `->check([](const std::string& t) { return hicomex::option_problem(hicomex::parse_device, t); })`.
template <typename Parse>
std::string option_problem(const Parse& parse, const std::string& text) {
  try {
    parse(text);
    return {};
  } catch (const OptionError& e) {
    return e.what();
  }
}

}  // namespace hicomex
