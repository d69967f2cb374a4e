// The one place where the library's typed errors (hicomex/errors.h) become
// GStreamer error domains and codes (docs/elements.md, "Errors"), and where
// the text of a failed start is worded:
//
//   error                                   start (READY->PAUSED)   a frame
//   ModelFileError NotFound                 RESOURCE/NOT_FOUND      RESOURCE/NOT_FOUND
//   ModelFileError Unreadable               RESOURCE/READ           RESOURCE/READ
//   ModelFileError Corrupt                  RESOURCE/READ           RESOURCE/READ
//   DeviceError, OptionError                RESOURCE/SETTINGS       RESOURCE/SETTINGS
//   MediaError                              STREAM/FORMAT           STREAM/FORMAT
//   another std::invalid_argument           RESOURCE/SETTINGS       STREAM/FAILED
//   anything else                           RESOURCE/FAILED         STREAM/FAILED
#pragma once
#include <gst/gst.h>

#include <exception>
#include <string>

namespace hicomex::gst {

/// What the element was doing when the error came: decides the code of an
/// error that carries no type of its own.
enum class ErrorStage { Start, Frame };

struct ErrorCode {
  GQuark domain = 0;
  gint code = 0;
};

/// The domain and code for `e` (the table above).
ErrorCode error_code_of(const std::exception& e, ErrorStage stage);

/// Posts an error (or, with GST_MESSAGE_WARNING, a warning) for `e` on
/// `element`'s bus with the code error_code_of() gives: `text` is the message
/// users read, e.what() the debug detail. Use HICOMEX_POST_ERROR for the
/// caller's source position.
void post_error(GstElement* element, GstMessageType type, const std::exception& e, ErrorStage stage,
                const std::string& text, const char* file, const char* function, int line);

/// The model as users know it: `weights` (the model property), or, when it is
/// empty, the default model it stands for.
std::string describe_model(const std::string& weights);

/// What a failed start says (the message users read; the code comes from
/// error_code_of()): the model `model` (describe_model()), or the file at fault.
std::string start_failure_text(const std::exception& e, const std::string& model);

}  // namespace hicomex::gst

#define HICOMEX_POST_ERROR(element, type, e, stage, text) \
  ::hicomex::gst::post_error(GST_ELEMENT_CAST(element), (type), (e), (stage), (text), __FILE__, GST_FUNCTION, __LINE__)
