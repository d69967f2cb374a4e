// The options model (AnalyzerOptions: one source of fields and defaults), the
// one parser of each option text (device, precision, thresholds) and the
// typed errors (hicomex/errors.h) as thrown where things fail. Public API
// only: no model is trained or written here, a garbage file stands in where
// a model file must merely exist.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clocale>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <type_traits>

#include "hicomex/errors.h"
#include "hicomex/face_analyzer.h"
#include "hicomex/face_detector.h"
#include "hicomex/model_paths.h"
#include "hicomex/option_parsers.h"
#include "hicomex/safetensors.h"
#include "media_paths.h"
#include "temp_dir.h"

using namespace hicomex;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

using hicomex::test::TempDir;

std::string garbage_file(const TempDir& dir) {
  const std::string path = dir.file("garbage.safetensors");
  std::ofstream(path) << "this is not a safetensors file";
  return path;
}

bool has_cuda() { return resolve_device("auto") != "cpu"; }

}  // namespace

// ---- the options model ----

TEST(AnalyzerOptionsModel, DefaultsAreTheComponentsOwn) {
  const AnalyzerOptions o;
  const TrackerOptions tracker;
  const FaceDetectorOptions detector;
  const AuEngineOptions engine;
  const LandmarkerOptions landmarks;
  EXPECT_EQ(o.tracker.detection_interval, tracker.detection_interval);
  EXPECT_EQ(o.tracker.detection_interval, 5) << "documented default";
  EXPECT_FLOAT_EQ(o.tracker.min_confidence, tracker.min_confidence);
  EXPECT_EQ(o.tracker.max_faces, tracker.max_faces);
  EXPECT_EQ(o.tracker.min_face_size, tracker.min_face_size);
  EXPECT_FLOAT_EQ(o.tracker.landmark_min_cutoff_hz, tracker.landmark_min_cutoff_hz);
  EXPECT_FLOAT_EQ(o.tracker.au_smoothing, tracker.au_smoothing);
  EXPECT_EQ(o.detector.name, "blazeface");
  EXPECT_FLOAT_EQ(o.detector.options.score_threshold, detector.score_threshold);
  EXPECT_EQ(o.engine.device, engine.device);
  EXPECT_EQ(o.engine.batch_timeout_us, engine.batch_timeout_us);
  EXPECT_EQ(o.engine.precision, "auto") << "the analyzer's one own engine default";
  EXPECT_TRUE(o.engine.weights.empty()) << "the default model";
  EXPECT_EQ(o.landmarks.manifest_path, landmarks.manifest_path);
  EXPECT_EQ(o.inference_interval, 1);
  EXPECT_TRUE(o.thresholds.empty());
  EXPECT_EQ(o.calibration, AuCalibration::Dynamic);
}

// ---- device ----

TEST(DeviceParser, ReadsEveryValidForm) {
  EXPECT_EQ(parse_device("auto").kind, DeviceSpec::Kind::Auto);
  EXPECT_EQ(parse_device("cpu").kind, DeviceSpec::Kind::Cpu);
  const DeviceSpec cuda = parse_device("cuda");
  EXPECT_EQ(cuda.kind, DeviceSpec::Kind::Cuda);
  EXPECT_EQ(cuda.index, -1);
  const DeviceSpec second = parse_device("cuda:1");
  EXPECT_EQ(second.kind, DeviceSpec::Kind::Cuda);
  EXPECT_EQ(second.index, 1);
  for (const char* text : {"auto", "cpu", "cuda", "cuda:0", "cuda:12"}) EXPECT_EQ(to_string(parse_device(text)), text);
}

TEST(DeviceParser, NamesTheTextAndTheValidForms) {
  for (const char* bad : {"tpu", "CPU", "", " cpu", "cuda:", "cuda:x", "cuda:-1", "cuda1", "cuda:1:2"}) {
    try {
      parse_device(bad);
      FAIL() << "accepted \"" << bad << "\"";
    } catch (const DeviceError& e) {
      EXPECT_EQ(e.option(), "device");
      EXPECT_EQ(e.value(), bad);
      EXPECT_FALSE(e.valid_text());
      EXPECT_TRUE(contains(e.what(), std::string("'") + bad + "'")) << e.what();
      EXPECT_TRUE(contains(e.what(), kDeviceForms)) << e.what();
    }
  }
}

TEST(DeviceParser, ResolvesToADeviceOfThisMachine) {
  EXPECT_EQ(resolve_device("cpu"), "cpu");
  const std::string automatic = resolve_device("auto");
  EXPECT_TRUE(automatic == "cpu" || automatic == "cuda:0") << automatic;
  const char* missing = has_cuda() ? "cuda:999" : "cuda";
  try {
    resolve_device(missing);
    FAIL() << missing << " is not on this machine";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(e.valid_text()) << "the text is fine, the device is missing";
    EXPECT_TRUE(contains(e.what(), "no CUDA device")) << e.what();
    EXPECT_TRUE(contains(e.what(), missing)) << e.what();
  }
  EXPECT_THROW(resolve_device("tpu"), DeviceError);
}

// ---- precision ----

TEST(PrecisionParser, ReadsTheFourPrecisionsAndNothingElse) {
  EXPECT_EQ(parse_precision("auto"), Precision::Auto);
  EXPECT_EQ(parse_precision("fp32"), Precision::Fp32);
  EXPECT_EQ(parse_precision("bf16"), Precision::Bf16);
  EXPECT_EQ(parse_precision("fp16"), Precision::Fp16);
  for (const std::string& name : precision_names()) EXPECT_EQ(to_string(parse_precision(name)), name);
  for (const char* bad : {"fp64", "FP32", "", "bf16 "}) {
    try {
      parse_precision(bad);
      FAIL() << "accepted \"" << bad << "\"";
    } catch (const OptionError& e) {
      EXPECT_EQ(e.option(), "precision");
      EXPECT_EQ(e.value(), bad);
      EXPECT_TRUE(contains(e.what(), std::string("'") + bad + "'")) << e.what();
      EXPECT_TRUE(contains(e.what(), "auto, fp32, bf16 or fp16")) << e.what();
    }
  }
}

// ---- thresholds ----

TEST(ThresholdParser, ReadsOneValuePerAuPairsAndAPositionalList) {
  EXPECT_TRUE(parse_threshold_spec("").empty());
  EXPECT_TRUE(parse_threshold_spec("  ").empty());
  const ThresholdSpec one = parse_threshold_spec(" 0.4 ");
  ASSERT_TRUE(one.all);
  EXPECT_FLOAT_EQ(*one.all, 0.4f);
  const ThresholdSpec pairs = parse_threshold_spec("AU12=0.3, au4=0.6,17=0.1 , Au2 = 1");
  ASSERT_EQ(pairs.per_au.size(), 4u);
  EXPECT_EQ(pairs.per_au[0].first, 12);
  EXPECT_EQ(pairs.per_au[1].first, 4);
  EXPECT_FLOAT_EQ(pairs.per_au[2].second, 0.1f);
  EXPECT_EQ(pairs.per_au[3].first, 2);
  EXPECT_FLOAT_EQ(pairs.per_au[3].second, 1.f);
  const ThresholdSpec list = parse_threshold_spec("0.1,0.2, 0.3");
  EXPECT_FALSE(list.all);
  EXPECT_EQ(list.in_model_order, (std::vector<float>{0.1f, 0.2f, 0.3f}));
  EXPECT_EQ(parse_threshold_spec("0").all, std::optional<float>(0.f));
  EXPECT_EQ(parse_threshold_spec(".5").all, std::optional<float>(0.5f));
}

TEST(ThresholdParser, NamesTheOffendingTokenAndTheValidForms) {
  struct Case {
    const char* text;
    const char* token;  // what the message and value() must name
  };
  for (const Case& c :
       {Case{"x", "x"}, Case{"1.5", "1.5"}, Case{"-0.1", "-0.1"}, Case{"nan", "nan"}, Case{"AU12", "AU12"},
        Case{"AU12=", ""}, Case{"AUx=0.3", "AUx"}, Case{"AU12=abc", "abc"}, Case{"AU1234=0.3", "AU1234"},
        Case{"AU12=0.3,AU12=0.4", "AU12=0.4"}, Case{"AU12=0.3,0.4", "0.4"}, Case{"0.3,,0.4", ""}, Case{"0.3,", ""},
        Case{"0,4", "4"}, Case{"0.5.1", "0.5.1"}, Case{"0.4;0.5", "0.4;0.5"}}) {
    try {
      parse_threshold_spec(c.text);
      FAIL() << "accepted \"" << c.text << "\"";
    } catch (const OptionError& e) {
      EXPECT_EQ(e.option(), "threshold") << c.text;
      EXPECT_EQ(e.value(), c.token) << c.text << ": " << e.what();
      EXPECT_TRUE(contains(e.what(), std::string("\"") + c.text + "\"")) << e.what();
      if (*c.token) {
        EXPECT_TRUE(contains(e.what(), c.token)) << e.what();
      }
      EXPECT_TRUE(contains(e.what(), kThresholdForms)) << "lists the valid forms: " << e.what();
    }
  }
}

TEST(ThresholdParser, ReadsADecimalPointWhateverTheLocale) {
  const char* locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8"};
  const std::string before = std::setlocale(LC_ALL, nullptr);
  for (const char* l : locales) {
    if (!std::setlocale(LC_ALL, l)) continue;
    EXPECT_EQ(parse_threshold_spec("0.25").all, std::optional<float>(0.25f)) << l;
    EXPECT_THROW(parse_threshold_spec("0,25,0,5"), OptionError) << l << ": 25 is no probability";
  }
  std::setlocale(LC_ALL, before.c_str());
}

TEST(ThresholdParser, ResolvesAgainstTheModelsAus) {
  const std::vector<int> ids = {1, 4, 12};
  const std::vector<float> model = {0.5f, 0.6f, 0.7f};
  EXPECT_TRUE(resolve_thresholds(parse_threshold_spec(""), ids, model).empty()) << "the model's";
  EXPECT_EQ(resolve_thresholds(parse_threshold_spec("0.2"), ids, model), std::vector<float>{0.2f});
  EXPECT_EQ(resolve_thresholds(parse_threshold_spec("AU12=0.1"), ids, model), (std::vector<float>{0.5f, 0.6f, 0.1f}));
  EXPECT_EQ(resolve_thresholds(parse_threshold_spec("12=0.1,au1=0"), ids, model),
            (std::vector<float>{0.f, 0.6f, 0.1f}));
  EXPECT_EQ(resolve_thresholds(parse_threshold_spec("0.1,0.2,0.3"), ids, model),
            (std::vector<float>{0.1f, 0.2f, 0.3f}));
  try {
    resolve_thresholds(parse_threshold_spec("AU2=0.1"), ids, model);
    FAIL() << "AU2 is not in the model";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.value(), "AU2");
    EXPECT_TRUE(contains(e.what(), "AU2 ")) << e.what();
    EXPECT_TRUE(contains(e.what(), "AU1, AU4, AU12")) << "lists the model's AUs: " << e.what();
  }
  try {
    resolve_thresholds(parse_threshold_spec("0,1"), ids, model);
    FAIL() << "two values for three AUs";
  } catch (const OptionError& e) {
    EXPECT_TRUE(contains(e.what(), "2 values for a model with 3 AUs")) << e.what();
  }
}

// ---- the error types ----

TEST(TypedErrors, AreTheStdExceptionsCallersCatch) {
  static_assert(std::is_base_of_v<std::runtime_error, ModelFileError>);
  static_assert(std::is_base_of_v<ModelFileError, WeightsError>);
  static_assert(std::is_base_of_v<std::invalid_argument, OptionError>);
  static_assert(std::is_base_of_v<OptionError, DeviceError>);
  static_assert(std::is_base_of_v<std::invalid_argument, MediaError>);
  static_assert(std::is_base_of_v<Error, ModelFileError> && std::is_base_of_v<Error, OptionError> &&
                std::is_base_of_v<Error, MediaError>);
  static_assert(std::is_nothrow_copy_constructible_v<ModelFileError>);
  static_assert(std::is_nothrow_copy_constructible_v<OptionError>);
  // One std::exception base each: a catch of std::exception still catches them.
  auto caught_as_std_exception = [](auto thrown) {
    try {
      throw thrown;
    } catch (const std::exception& e) {
      return std::string(e.what());
    } catch (...) {
      return std::string("not a std::exception");
    }
  };
  EXPECT_EQ(caught_as_std_exception(OptionError("o", "v", "bad o")), "bad o");
  EXPECT_EQ(caught_as_std_exception(DeviceError("tpu", false, "bad device")), "bad device");
  EXPECT_EQ(caught_as_std_exception(ModelFileError(ModelFileError::Kind::NotFound, "/m", "no /m")), "no /m");
  EXPECT_EQ(caught_as_std_exception(MediaError("bad frame")), "bad frame");
  try {
    throw DeviceError("tpu", false, "bad device");
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "bad device");
  }
  EXPECT_STREQ(to_string(ModelFileError::Kind::Unreadable), "unreadable");
}

TEST(TypedErrors, AWeightsFileThatIsMissingUnreadableOrCorruptSaysWhich) {
  TempDir dir("hicomex-options-weights");
  auto kind_of = [](const std::string& path) {
    try {
      read_safetensors(path);
    } catch (const WeightsError& e) {
      EXPECT_EQ(e.path(), path);
      EXPECT_TRUE(contains(e.what(), path)) << e.what();
      return e.kind();
    }
    ADD_FAILURE() << path << " was read";
    return ModelFileError::Kind::Corrupt;
  };
  EXPECT_EQ(kind_of(dir.file("missing.safetensors")), ModelFileError::Kind::NotFound);
  EXPECT_EQ(kind_of(garbage_file(dir)), ModelFileError::Kind::Corrupt);
  EXPECT_EQ(kind_of(dir.str()), ModelFileError::Kind::Unreadable) << "a folder";
  const std::string locked = dir.file("locked.safetensors");
  std::ofstream(locked) << "whatever";
  ::chmod(locked.c_str(), 0);
  if (::access(locked.c_str(), R_OK) == 0) {
    std::printf("[  SKIPPED ] chmod 000 does not stop this user (euid %d) from reading\n",
                static_cast<int>(::geteuid()));
  } else {
    EXPECT_EQ(kind_of(locked), ModelFileError::Kind::Unreadable);
  }
}

TEST(TypedErrors, AMissingFaceModelOrDetectorIsTyped) {
  try {
    face_model_path("no-such-model.onnx");
    FAIL() << "found a model that does not exist";
  } catch (const ModelFileError& e) {
    EXPECT_EQ(e.kind(), ModelFileError::Kind::NotFound);
    EXPECT_TRUE(contains(e.path(), "no-such-model.onnx")) << e.path();
  }
  try {
    make_face_detector("retinaface");
    FAIL() << "no such detector";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.option(), "detector");
    EXPECT_EQ(e.value(), "retinaface");
  }
}

// FaceAnalyzer checks the device and the precision before it loads any
// network, so a garbage file that merely exists is enough to see them fail.
TEST(TypedErrors, FaceAnalyzerThrowsTheTypeOfEachStartFailure) {
  TempDir dir("hicomex-options-analyzer");
  const std::string garbage = garbage_file(dir);
  auto options = [](const std::string& model) {
    AnalyzerOptions o;
    o.engine.weights = model;
    o.engine.device = "cpu";
    o.threads = 1;
    return o;
  };
  try {
    FaceAnalyzer a(options(dir.file("missing.safetensors")));
    FAIL() << "no exception";
  } catch (const ModelFileError& e) {
    EXPECT_EQ(e.kind(), ModelFileError::Kind::NotFound);
    EXPECT_EQ(e.path(), dir.file("missing.safetensors"));
  }
  try {
    FaceAnalyzer a(options(dir.str()));
    FAIL() << "no exception";
  } catch (const ModelFileError& e) {
    EXPECT_EQ(e.kind(), ModelFileError::Kind::Unreadable) << "a folder: " << e.what();
  }
  try {
    FaceAnalyzer a(options(garbage));
    FAIL() << "no exception";
  } catch (const ModelFileError& e) {
    EXPECT_EQ(e.kind(), ModelFileError::Kind::Corrupt) << e.what();
    EXPECT_TRUE(contains(e.what(), garbage)) << e.what();
  }
  AnalyzerOptions o = options(garbage);
  o.engine.device = "tpu";
  EXPECT_THROW(FaceAnalyzer{o}, DeviceError);
  o.engine.device = has_cuda() ? "cuda:999" : "cuda";
  try {
    FaceAnalyzer a(o);
    FAIL() << "no exception";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(contains(e.what(), "no CUDA device")) << e.what();
  }
  o = options(garbage);
  o.engine.precision = "fp64";
  try {
    FaceAnalyzer a(o);
    FAIL() << "no exception";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.option(), "precision");
    EXPECT_EQ(e.value(), "fp64");
  }
  o.engine.precision = "fp16";  // on the CPU
  try {
    FaceAnalyzer a(o);
    FAIL() << "no exception";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.option(), "precision");
    EXPECT_TRUE(contains(e.what(), "CUDA")) << e.what();
  }
  o = options(garbage);
  o.tracker.detection_interval = 0;
  try {
    FaceAnalyzer a(o);
    FAIL() << "no exception";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.option(), "tracker.detection_interval");
  }
}

// The AU engine loads on a second thread while the face detector, the landmark
// net and the landmark check load on the caller's: when both sides fail, the
// engine's failure is the one reported (as when they loaded in turn), and a
// working analyzer comes out of the same concurrent load.
TEST(TypedErrors, WhenTheModelAndTheDetectorBothFailTheModelIsReported) {
  TempDir dir("hicomex-options-both");
  AnalyzerOptions o;
  o.engine.weights = dir.file("missing.safetensors");
  o.engine.device = "cpu";
  o.detector.name = "retinaface";  // no such detector: fails at once on this thread
  o.threads = 1;
  try {
    FaceAnalyzer a(o);
    FAIL() << "no exception";
  } catch (const ModelFileError& e) {
    EXPECT_EQ(e.kind(), ModelFileError::Kind::NotFound);
    EXPECT_EQ(e.path(), dir.file("missing.safetensors"));
  }
  o.engine.weights = garbage_file(dir);
  try {
    FaceAnalyzer a(o);
    FAIL() << "no exception";
  } catch (const ModelFileError& e) {
    EXPECT_EQ(e.kind(), ModelFileError::Kind::Corrupt) << e.what();
  }
  // Only the detector fails: its own error.
  o.engine.weights.clear();  // the default model
  try {
    FaceAnalyzer a(o);
    FAIL() << "no exception";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.option(), "detector");
    EXPECT_EQ(e.value(), "retinaface");
  }
  o.detector.name = "blazeface";
  FaceAnalyzer a(o);
  EXPECT_FALSE(a.model_id().empty());
  EXPECT_GT(a.au_ids().size(), 0u);
}

// A tree run (this test, the tools and gst-launch with the build tree's plugin)
// must take the source tree's bundled files first, never an older installed copy.
TEST(BundledFiles, ARunFromTheBuildTreeTakesTheSourceTreesCopiesFirst) {
  EXPECT_EQ(bundled_search_order("/inst/m", "/src/m", true), (std::vector<std::string>{"/src/m", "/inst/m"}));
  EXPECT_EQ(bundled_search_order("/inst/m", "/src/m", false), (std::vector<std::string>{"/inst/m", "/src/m"}));
  EXPECT_TRUE(running_from_build_tree()) << "this test's libhicomex is loaded from the build tree";

  const char* old_model = std::getenv("HICOMEX_MODEL");
  const std::string saved_model = old_model ? old_model : "";
  const char* old_faces = std::getenv("HICOMEX_FACE_MODELS");
  const std::string saved_faces = old_faces ? old_faces : "";
  ::unsetenv("HICOMEX_MODEL");
  ::unsetenv("HICOMEX_FACE_MODELS");
  const std::string source_model = test::source_root() + "/models/hicomex-default.safetensors";
  if (fs::exists(source_model)) {
    EXPECT_EQ(fs::canonical(default_model_path()), fs::canonical(source_model));
  }
  if (fs::is_directory(test::source_face_models_dir())) {
    EXPECT_EQ(fs::canonical(face_models_dir()), fs::canonical(test::source_face_models_dir()));
  }
  if (old_model) ::setenv("HICOMEX_MODEL", saved_model.c_str(), 1);
  if (old_faces) ::setenv("HICOMEX_FACE_MODELS", saved_faces.c_str(), 1);
}
