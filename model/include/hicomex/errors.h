// The library's typed errors: what went wrong, so that callers (the GStreamer
// element, the tools) can react by kind instead of by guessing from the text.
//
//   hicomex::Error            every error below (catch it to catch them all)
//   ├─ ModelFileError         a model file: kind() NotFound / Unreadable / Corrupt, path()
//   │  └─ WeightsError        (hicomex/safetensors.h) a HiCOMEX weights file
//   ├─ OptionError            a bad option value: option(), value()
//   │  └─ DeviceError         the device: unknown text, or not on this machine (no CUDA)
//   └─ MediaError             a frame or image that cannot be read
//
// Each is also the std exception that code threw before the types existed, so
// every `catch (const std::exception&)`, `std::runtime_error&` (model files) or
// `std::invalid_argument&` (options, devices, frames) keeps working:
//
//   ModelFileError : std::runtime_error      OptionError, DeviceError, MediaError : std::invalid_argument
//
// hicomex::Error itself is an interface, not a second std::exception: a type
// deriving from both std::runtime_error and std::invalid_argument would hold
// two std::exception bases, and `catch (const std::exception&)` would then not
// catch it at all (an ambiguous base never matches).
#pragma once
#include <memory>
#include <stdexcept>
#include <string>

namespace hicomex {

/// What every typed error of the library is (besides its std exception).
class Error {
 public:
  virtual ~Error() = default;
  /// The message: names the file, option or device and what is wrong.
  virtual const char* what() const noexcept = 0;

 protected:
  Error() = default;
  Error(const Error&) = default;
  Error& operator=(const Error&) = default;
};

/// A model file (HiCOMEX weights, a face model) that is missing, cannot be
/// read, or whose content is not a valid model.
class ModelFileError : public std::runtime_error, public Error {
 public:
  enum class Kind {
    NotFound,    ///< no such file (or no default model installed)
    Unreadable,  ///< exists but cannot be read: permissions, a folder, an I/O error
    Corrupt,     ///< read, but not a valid model (format, checksum, shapes, NaN)
  };
  /// `message` is the whole text; it names `path` (empty when unknown).
  ModelFileError(Kind kind, std::string path, const std::string& message);
  Kind kind() const noexcept { return kind_; }
  const std::string& path() const noexcept;
  const char* what() const noexcept override { return std::runtime_error::what(); }

 private:
  Kind kind_;
  std::shared_ptr<const std::string> path_;  // shared: copying the exception never throws
};

/// "not-found", "unreadable", "corrupt".
const char* to_string(ModelFileError::Kind kind);

/// A bad option value. The message names the option and the value and says
/// which values are valid.
class OptionError : public std::invalid_argument, public Error {
 public:
  OptionError(std::string option, std::string value, const std::string& message);
  const std::string& option() const noexcept;  ///< e.g. "precision", "threshold"
  const std::string& value() const noexcept;   ///< the offending value or token as given
  const char* what() const noexcept override { return std::invalid_argument::what(); }

 private:
  struct Detail;
  std::shared_ptr<const Detail> detail_;
};

/// The device option: a text that is no device ("tpu"), or a device this
/// machine does not have ("cuda" without a CUDA GPU, "cuda:3" with two).
class DeviceError : public OptionError {
 public:
  /// `valid_text` = true: the text names a device, but this machine lacks it.
  DeviceError(std::string value, bool valid_text, const std::string& message);
  /// Whether the text itself was valid (the device is missing on this machine).
  bool valid_text() const noexcept { return valid_text_; }

 private:
  bool valid_text_;
};

/// A frame or image that cannot be read (bad view, decode failure).
class MediaError : public std::invalid_argument, public Error {
 public:
  using std::invalid_argument::invalid_argument;
  const char* what() const noexcept override { return std::invalid_argument::what(); }
};

}  // namespace hicomex
