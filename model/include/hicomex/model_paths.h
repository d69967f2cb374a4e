// Where the face model files (BlazeFace ONNX, face-api tfjs weights) are found.
#pragma once
#include <string>

namespace hicomex {

/// The folder holding the face model files, in this order of preference:
/// $HICOMEX_FACE_MODELS if set, else the installed datadir/hicomex/face-models
/// if it exists, else face-models/ of the source tree this library was built from.
std::string face_models_dir();

/// Full path of `file` inside face_models_dir(). Throws ModelFileError
/// (NotFound; a std::runtime_error) naming that path, and how to fetch the
/// models, when the file is missing.
std::string face_model_path(const std::string& file);

}  // namespace hicomex
