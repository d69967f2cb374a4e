// Safetensors reader and writer. The file is untrusted input: every length,
// offset and shape is checked (with overflow-safe arithmetic) before a byte of
// tensor data is touched, and every failure names the file and the problem.
#include "hicomex/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <limits>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

namespace hicomex {
namespace {

// ordered_json keeps the writer's tensor order in the header, so zero-byte
// tensors (which share an offset) come back in the order they were written.
using Json = nlohmann::ordered_json;

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kMaxI64 = std::numeric_limits<std::int64_t>::max();

struct DTypeInfo {
  DType dtype;
  const char* name;
  std::size_t size;
};
constexpr DTypeInfo kDTypes[] = {{DType::F64, "F64", 8},   {DType::F32, "F32", 4}, {DType::F16, "F16", 2},
                                 {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
                                 {DType::I16, "I16", 2},   {DType::I8, "I8", 1},   {DType::U8, "U8", 1},
                                 {DType::BOOL, "BOOL", 1}};

[[noreturn]] void fail(const std::string& origin, const std::string& problem,
                       ModelFileError::Kind kind = ModelFileError::Kind::Corrupt) {
  throw WeightsError(kind, origin, origin + ": " + problem);
}

// Why a file could not be opened or read: missing, or there but unreadable.
ModelFileError::Kind kind_of_errno(int err) {
  return err == ENOENT || err == ENOTDIR ? ModelFileError::Kind::NotFound : ModelFileError::Kind::Unreadable;
}

std::string errno_text(int err) { return std::generic_category().message(err); }

// A name as it appears in the header (quoted, escaped); never throws, so it is
// safe to use while reporting a name that is not valid UTF-8.
std::string json_quoted(const std::string& s) { return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace); }

// numel * dtype size of a validated shape; false when it does not fit in 64 bits.
bool byte_size(const std::vector<std::int64_t>& shape, DType dtype, std::uint64_t& out) {
  std::uint64_t n = dtype_size(dtype);
  for (std::int64_t d : shape) {
    const auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && n > kMaxU64 / u) return false;
    n *= u;
  }
  out = n;
  return true;
}

std::string shape_text(const std::vector<std::int64_t>& shape) { return Json(shape).dump(); }

// Parses the header, rejecting duplicate keys in any object: nlohmann keeps
// the last duplicate silently, which would hide a second, conflicting tensor.
Json parse_header(const std::uint8_t* begin, const std::uint8_t* end, const std::string& origin) {
  std::vector<std::set<std::string>> seen;  // keys per open object, by depth
  std::string duplicate;
  const Json::parser_callback_t check = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      seen.resize(static_cast<std::size_t>(depth) + 1);
      seen[static_cast<std::size_t>(depth)].clear();
    } else if (event == Json::parse_event_t::key && depth > 0) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!seen[static_cast<std::size_t>(depth) - 1].insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(begin, end, check);
  } catch (const Json::exception& e) {
    fail(origin, std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) fail(origin, "duplicate key " + json_quoted(duplicate) + " in header");
  if (!header.is_object()) fail(origin, "header is not a JSON object");
  return header;
}

std::map<std::string, std::string> parse_metadata(const Json& j, const std::string& origin) {
  if (!j.is_object()) fail(origin, "__metadata__ is not an object of string values");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) fail(origin, "__metadata__ value of " + json_quoted(key) + " is not a string");
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

struct Entry {
  TensorRecord record;  // data still empty
  std::uint64_t begin = 0, end = 0;
};

// One tensor entry, checked on its own against the size of the data buffer.
Entry parse_entry(const std::string& name, const Json& j, std::uint64_t buffer_size, const std::string& origin) {
  const std::string at = "tensor " + json_quoted(name) + ": ";
  if (!j.is_object()) fail(origin, at + "entry is not a JSON object");
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!j.contains(field)) fail(origin, at + "missing \"" + field + "\"");

  Entry e;
  e.record.name = name;
  const Json& dtype = j.at("dtype");
  if (!dtype.is_string()) fail(origin, at + "\"dtype\" is not a string");
  try {
    e.record.dtype = dtype_from_string(dtype.get<std::string>());
  } catch (const std::invalid_argument&) {
    fail(origin, at + "unknown dtype " + dtype.dump());
  }

  const Json& shape = j.at("shape");
  if (!shape.is_array()) fail(origin, at + "\"shape\" is not an array of integers");
  for (const Json& d : shape) {
    if (!d.is_number_integer()) fail(origin, at + "\"shape\" is not an array of integers");
    if (!d.is_number_unsigned()) fail(origin, at + "negative dimension " + d.dump() + " in shape");
    if (d.get<std::uint64_t>() > kMaxI64) fail(origin, at + "dimension " + d.dump() + " is too large");
    e.record.shape.push_back(d.get<std::int64_t>());
  }

  const Json& offsets = j.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    fail(origin, at + "\"data_offsets\" is not [begin, end] with non-negative integers");
  e.begin = offsets[0].get<std::uint64_t>();
  e.end = offsets[1].get<std::uint64_t>();
  const std::string span = "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
  if (e.begin > e.end) fail(origin, at + span + " has begin after end");
  if (e.end > buffer_size)
    fail(origin,
         at + span + " run past the end of the " + std::to_string(buffer_size) + "-byte data buffer (truncated file?)");

  std::uint64_t expected = 0;
  if (!byte_size(e.record.shape, e.record.dtype, expected))
    fail(origin, at + "shape " + shape_text(e.record.shape) + " is too large (byte size overflows)");
  if (expected != e.end - e.begin)
    fail(origin, at + "shape " + shape_text(e.record.shape) + " of " + to_string(e.record.dtype) + " needs " +
                     std::to_string(expected) + " bytes but " + span + " span " + std::to_string(e.end - e.begin));
  return e;
}

}  // namespace

const char* to_string(DType d) {
  for (const auto& info : kDTypes)
    if (info.dtype == d) return info.name;
  return "UNKNOWN";
}

DType dtype_from_string(const std::string& s) {
  for (const auto& info : kDTypes)
    if (s == info.name) return info.dtype;
  throw std::invalid_argument("unknown safetensors dtype \"" + s + "\"");
}

std::size_t dtype_size(DType d) {
  for (const auto& info : kDTypes)
    if (info.dtype == d) return info.size;
  throw std::invalid_argument("unknown DType value " + std::to_string(static_cast<int>(d)));
}

std::int64_t TensorRecord::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

const TensorRecord* SafetensorsFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

SafetensorsFile parse_safetensors(const std::vector<std::uint8_t>& bytes, const std::string& origin) {
  if (bytes.size() < 8)
    fail(origin, "file is " + std::to_string(bytes.size()) + " bytes, too short for the 8-byte header length");
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[static_cast<std::size_t>(i)];
  if (header_len > kMaxSafetensorsHeader)
    fail(origin, "header length " + std::to_string(header_len) + " exceeds the limit of " +
                     std::to_string(kMaxSafetensorsHeader) + " bytes");
  if (header_len > bytes.size() - 8)
    fail(origin, "header length " + std::to_string(header_len) + " exceeds the " + std::to_string(bytes.size() - 8) +
                     " bytes after the 8-byte length field (file size " + std::to_string(bytes.size()) + ")");

  const std::uint8_t* buffer = bytes.data() + 8 + header_len;
  const std::uint64_t buffer_size = bytes.size() - 8 - header_len;
  const Json header = parse_header(bytes.data() + 8, buffer, origin);

  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__")
      file.metadata = parse_metadata(value, origin);
    else
      entries.push_back(parse_entry(name, value, buffer_size, origin));
  }

  // The buffer must be tiled exactly: tensors back to back from offset 0, in
  // offset order, with nothing hidden in gaps or after the last one.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t cursor = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < cursor)
      fail(origin, "tensor " + json_quoted(e.record.name) + " overlaps tensor " + json_quoted(previous->record.name) +
                       " (begins at " + std::to_string(e.begin) + ", before " + std::to_string(cursor) + ")");
    if (e.begin > cursor)
      fail(origin, "gap of " + std::to_string(e.begin - cursor) + " bytes before tensor " + json_quoted(e.record.name) +
                       " at offset " + std::to_string(cursor));
    cursor = e.end;
    previous = &e;
  }
  if (cursor != buffer_size)
    fail(origin, std::to_string(buffer_size - cursor) + " trailing bytes after the last tensor");

  file.tensors.reserve(entries.size());
  for (Entry& e : entries) {
    e.record.data.assign(buffer + e.begin, buffer + e.end);
    file.tensors.push_back(std::move(e.record));
  }
  return file;
}

SafetensorsFile read_safetensors(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int open_err = errno;
    fail(path, "cannot open file (" + errno_text(open_err) + ")", kind_of_errno(open_err));
  }
  std::vector<std::uint8_t> bytes;
  struct stat st {};
  int err = 0;
  if (::fstat(fd, &st) != 0) {
    err = errno;
  } else if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file", ModelFileError::Kind::Unreadable);
  } else {
    bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = errno;
      if (n <= 0) break;  // a file that shrank while reading is caught by the checks
      done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
  }
  ::close(fd);
  if (err != 0) fail(path, "cannot read file (" + errno_text(err) + ")", ModelFileError::Kind::Unreadable);
  return parse_safetensors(bytes, path);
}

std::vector<std::uint8_t> serialise_safetensors(const SafetensorsFile& file) {
  Json header = Json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const TensorRecord& t : file.tensors) {
    const std::string at = "tensor " + json_quoted(t.name) + ": ";
    if (t.name == "__metadata__") throw WeightsError(at + "the name is reserved for metadata");
    if (!names.insert(t.name).second) throw WeightsError(at + "duplicate tensor name");
    for (std::int64_t d : t.shape)
      if (d < 0) throw WeightsError(at + "negative dimension in shape " + shape_text(t.shape));
    std::uint64_t size = 0;
    if (!byte_size(t.shape, t.dtype, size) || size != t.data.size())
      throw WeightsError(at + "data has " + std::to_string(t.data.size()) + " bytes, shape " + shape_text(t.shape) +
                         " of " + to_string(t.dtype) + " needs " + std::to_string(size));
    Json entry = Json::object();
    entry["dtype"] = to_string(t.dtype);
    entry["shape"] = t.shape;
    entry["data_offsets"] = {offset, offset + size};
    header[t.name] = std::move(entry);
    offset += size;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const Json::exception&) {
    throw WeightsError("a tensor name or metadata string is not valid UTF-8");
  }
  // Pad with spaces so the data buffer starts 8-byte aligned, as the reference does.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<std::uint8_t> bytes;
  bytes.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i)
    bytes.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(text.size()) >> (8 * i)));
  bytes.insert(bytes.end(), text.begin(), text.end());
  for (const TensorRecord& t : file.tensors) bytes.insert(bytes.end(), t.data.begin(), t.data.end());
  return bytes;
}

void write_safetensors(const std::string& path, const SafetensorsFile& file) {
  std::vector<std::uint8_t> bytes;
  try {
    bytes = serialise_safetensors(file);
  } catch (const WeightsError& e) {
    fail(path, e.what());
  }
  // A reader never sees a half-written file: write a sibling, then rename over.
  static std::atomic<unsigned> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int create_err = errno;
    fail(path, "cannot create temporary file " + tmp + " (" + errno_text(create_err) + ")",
         ModelFileError::Kind::Unreadable);
  }

  std::string problem;
  std::size_t done = 0;
  while (done < bytes.size() && problem.empty()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      problem = "cannot write " + tmp + " (" + errno_text(n < 0 ? errno : EIO) + ")";
    else
      done += static_cast<std::size_t>(n);
  }
  if (problem.empty() && ::fsync(fd) != 0) problem = "cannot sync " + tmp + " (" + errno_text(errno) + ")";
  if (::close(fd) != 0 && problem.empty()) problem = "cannot close " + tmp + " (" + errno_text(errno) + ")";
  if (problem.empty() && ::rename(tmp.c_str(), path.c_str()) != 0)
    problem = "cannot rename " + tmp + " to the destination (" + errno_text(errno) + ")";
  if (!problem.empty()) {
    ::unlink(tmp.c_str());
    fail(path, problem, ModelFileError::Kind::Unreadable);
  }
}

}  // namespace hicomex
