// Where the face model files (BlazeFace ONNX, face-api tfjs weights) are found.
#pragma once
#include <string>
#include <vector>

namespace hicomex {

/// True when this library is the one in the build tree it was compiled in
/// (a tool, test or gst-launch run from the tree), false once installed or
/// copied elsewhere. Bundled files are then looked up in the source tree
/// first, so a tree run never picks an older installed copy.
bool running_from_build_tree();

/// The places to look for a bundled file, in order: `source` first when
/// `from_build_tree`, else `installed` first.
std::vector<std::string> bundled_search_order(const std::string& installed, const std::string& source,
                                              bool from_build_tree);

/// The folder holding the face model files, in this order of preference:
/// $HICOMEX_FACE_MODELS if set, else (bundled_search_order) the installed
/// datadir/hicomex/face-models and face-models/ of the source tree this library
/// was built from, the first that exists; the source tree's when none does.
std::string face_models_dir();

/// Full path of `file` inside face_models_dir(). Throws ModelFileError
/// (NotFound; a std::runtime_error) naming that path, and how to fetch the
/// models, when the file is missing.
std::string face_model_path(const std::string& file);

}  // namespace hicomex
