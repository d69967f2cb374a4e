#include "hicomex/errors.h"

namespace hicomex {

ModelFileError::ModelFileError(Kind kind, std::string path, const std::string& message)
    : std::runtime_error(message), kind_(kind), path_(std::make_shared<const std::string>(std::move(path))) {}

const std::string& ModelFileError::path() const noexcept { return *path_; }

const char* to_string(ModelFileError::Kind kind) {
  switch (kind) {
    case ModelFileError::Kind::NotFound: return "not-found";
    case ModelFileError::Kind::Unreadable: return "unreadable";
    case ModelFileError::Kind::Corrupt: return "corrupt";
  }
  return "corrupt";
}

struct OptionError::Detail {
  std::string option, value;
};

OptionError::OptionError(std::string option, std::string value, const std::string& message)
    : std::invalid_argument(message),
      detail_(std::make_shared<const Detail>(Detail{std::move(option), std::move(value)})) {}

const std::string& OptionError::option() const noexcept { return detail_->option; }
const std::string& OptionError::value() const noexcept { return detail_->value; }

DeviceError::DeviceError(std::string value, bool valid_text, const std::string& message)
    : OptionError("device", std::move(value), message), valid_text_(valid_text) {}

}  // namespace hicomex
