#include "error_mapping.h"

#include <stdexcept>

#include "hicomex/errors.h"
#include "hicomex/face_analyzer.h"

namespace hicomex::gst {

ErrorCode error_code_of(const std::exception& e, ErrorStage stage) {
  if (const auto* file = dynamic_cast<const ModelFileError*>(&e)) {
    if (file->kind() == ModelFileError::Kind::NotFound) return {GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND};
    return {GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ};  // unreadable or corrupt: it could not be read as a model
  }
  if (dynamic_cast<const OptionError*>(&e))  // DeviceError too
    return {GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS};
  if (dynamic_cast<const MediaError*>(&e)) return {GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT};
  if (stage == ErrorStage::Start)
    return dynamic_cast<const std::invalid_argument*>(&e) ? ErrorCode{GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS}
                                                          : ErrorCode{GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED};
  return {GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED};
}

void post_error(GstElement* element, GstMessageType type, const std::exception& e, ErrorStage stage,
                const std::string& text, const char* file, const char* function, int line) {
  const ErrorCode c = error_code_of(e, stage);
  // gst_element_message_full() takes both strings (g_free()s them).
  gst_element_message_full(element, type, c.domain, c.code, g_strdup(text.c_str()), g_strdup(e.what()), file, function,
                           line);
}

std::string describe_model(const std::string& weights) {
  if (!weights.empty()) return weights;
  try {
    return default_model_path();
  } catch (const std::exception&) {
    return "(default model)";
  }
}

std::string start_failure_text(const std::exception& e, const std::string& model) {
  const std::string why = e.what();
  if (const auto* file = dynamic_cast<const ModelFileError*>(&e)) {
    const bool other_file = !file->path().empty() && file->path() != model;
    if (file->kind() == ModelFileError::Kind::NotFound)
      return other_file
                 ? "Could not find model file \"" + file->path() + "\" for HiCOMEX model \"" + model + "\": " + why
                 : "Could not find HiCOMEX model \"" + model + "\".";
    return other_file ? "Could not load model file \"" + file->path() + "\" for HiCOMEX model \"" + model + "\": " + why
                      : "Could not load HiCOMEX model \"" + model + "\": " + why;
  }
  if (dynamic_cast<const OptionError*>(&e) || dynamic_cast<const std::invalid_argument*>(&e))
    return "Invalid analyzer settings for model \"" + model + "\": " + why;
  return "Could not start HiCOMEX with model \"" + model + "\": " + why;
}

}  // namespace hicomex::gst
