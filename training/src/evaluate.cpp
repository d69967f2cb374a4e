// Predictions of a HiCOMEX network over cache records (see evaluate.h).
#include "training/evaluate.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "nn/autocast.h"
#include "text_util.h"
#include "training/loader.h"
#include "training/tensors.h"

namespace hicomex::training {

std::vector<std::int64_t> au_columns(const std::vector<int>& model_aus, const std::vector<int>& cache_aus,
                                     const std::string& origin) {
  std::vector<std::int64_t> cols;
  for (int au : model_aus) {
    const auto it = std::find(cache_aus.begin(), cache_aus.end(), au);
    if (it == cache_aus.end()) {
      std::string have;
      for (int a : cache_aus) have += (have.empty() ? "" : " ") + std::to_string(a);
      throw std::invalid_argument(origin + ": has no labels for AU" + std::to_string(au) + " (it codes AUs " + have +
                                  ")");
    }
    cols.push_back(it - cache_aus.begin());
  }
  return cols;
}

namespace {

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

std::string au_numbers(const std::vector<int>& aus) {
  std::string s;
  for (int a : aus) s += (s.empty() ? "" : " ") + std::to_string(a);
  return s.empty() ? "none" : s;
}

bool contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

bool any_number(const std::vector<float>& v) {
  return std::any_of(v.begin(), v.end(), [](float x) { return !std::isnan(x); });
}

}  // namespace

bool Predictions::has_predicted_intensities() const { return any_number(intensities); }
bool Predictions::has_label_intensities() const { return any_number(label_intensities); }

AuCoverage plan_au_coverage(const std::vector<int>& model_aus, const std::vector<int>& data_aus,
                            const std::vector<int>& requested, const std::vector<std::int64_t>& coded,
                            const std::string& origin) {
  if (!coded.empty() && coded.size() != data_aus.size())
    throw std::invalid_argument("plan_au_coverage: " + std::to_string(coded.size()) + " coded counts for " +
                                std::to_string(data_aus.size()) + " data AUs");
  for (int au : requested)
    if (!contains(model_aus, au))
      throw std::invalid_argument("--aus asks for AU" + std::to_string(au) + ", which the model does not predict " +
                                  "(its AUs: " + au_numbers(model_aus) + ")");
  AuCoverage c;
  c.model_aus = model_aus;
  for (int au : model_aus) {
    const auto it = std::find(data_aus.begin(), data_aus.end(), au);
    if (!requested.empty() && !contains(requested, au))
      c.left_out.push_back({au, "not in --aus"});
    else if (it == data_aus.end())
      c.left_out.push_back({au, "not coded by the data"});
    else if (!coded.empty() && coded[static_cast<std::size_t>(it - data_aus.begin())] == 0)
      c.left_out.push_back({au, "no coded labels in the evaluated faces"});
    else
      c.scored.push_back(au);
  }
  if (c.scored.empty()) {
    std::string msg = origin + ": nothing to score: the model predicts AUs " + au_numbers(model_aus) +
                      ", the data codes AUs " + au_numbers(data_aus);
    if (!requested.empty()) msg += ", --aus asks for " + au_numbers(requested);
    if (!coded.empty()) {
      std::vector<int> empty;
      for (std::size_t j = 0; j < data_aus.size(); ++j)
        if (coded[j] == 0) empty.push_back(data_aus[j]);
      if (!empty.empty()) msg += "; AUs without any coded label in the evaluated faces: " + au_numbers(empty);
    }
    throw std::invalid_argument(msg);
  }
  return c;
}

std::vector<std::int64_t> coded_label_counts(const CacheReader& cache, const std::vector<std::size_t>& records) {
  const std::size_t a = cache.aus().size();
  const auto labels = cache.all_labels();
  std::vector<std::int64_t> coded(a, 0);
  auto visit = [&](std::size_t r) {
    for (std::size_t j = 0; j < a; ++j) coded[j] += labels.at(r * a + j) >= 0 ? 1 : 0;
  };
  if (records.empty())
    for (std::size_t r = 0; r < cache.size(); ++r) visit(r);
  else
    for (auto r : records) visit(r);
  return coded;
}

Predictions select_aus(const Predictions& p, const std::vector<int>& aus) {
  const auto cols = au_columns(aus, p.aus, "the predictions");
  const std::size_t a = p.aus.size(), n = p.rows();
  Predictions out;
  out.aus = aus;
  out.records = p.records;
  for (std::size_t r = 0; r < n; ++r)
    for (auto c : cols) {
      const std::size_t k = r * a + static_cast<std::size_t>(c);
      out.probs.push_back(p.probs.at(k));
      out.labels.push_back(p.labels.at(k));
      out.intensities.push_back(k < p.intensities.size() ? p.intensities[k] : kNaNf);
      out.label_intensities.push_back(k < p.label_intensities.size() ? p.label_intensities[k] : kNaNf);
    }
  return out;
}

void score_intensities(MetricsRow& row, const Predictions& p, bool model_has_head) {
  const std::size_t a = p.aus.size();
  if (!model_has_head || p.intensities.size() != p.rows() * a) {
    row.intensity_note = "not scored: no predicted intensities (the model has no intensity head)";
    return;
  }
  if (p.label_intensities.size() != p.rows() * a) {
    row.intensity_note = "not scored: the data has no intensity labels for the scored AUs";
    return;
  }
  std::vector<std::size_t> cols;
  std::string without;
  for (std::size_t j = 0; j < a; ++j) {
    bool coded = false;
    for (std::size_t r = 0; r < p.rows() && !coded; ++r) coded = !std::isnan(p.label_intensities[r * a + j]);
    if (coded)
      cols.push_back(j);
    else
      without += (without.empty() ? "" : " ") + std::string("AU") + std::to_string(p.aus[j]);
  }
  if (cols.empty()) {
    row.intensity_note = "not scored: the data has no intensity labels for the scored AUs";
    return;
  }
  std::vector<int> aus;
  for (auto j : cols) aus.push_back(p.aus[j]);
  IntensityMetrics m(aus);
  std::vector<float> pred(cols.size()), label(cols.size());
  for (std::size_t r = 0; r < p.rows(); ++r) {
    for (std::size_t k = 0; k < cols.size(); ++k) {
      pred[k] = p.intensities[r * a + cols[k]];
      label[k] = p.label_intensities[r * a + cols[k]];
    }
    m.add(pred.data(), label.data());
  }
  row.intensity = std::move(m);
  if (!without.empty()) row.intensity_note = "no intensity labels for " + without + " (not in the intensity table)";
}

Predictions predict(nn::Hicomex& net, const CacheReader& cache, std::vector<std::size_t> records,
                    const torch::Device& device, const PredictOptions& options) {
  if (records.empty())
    for (std::size_t i = 0; i < cache.size(); ++i) records.push_back(i);
  const auto& o = net->options();
  const std::vector<int> aus = options.aus.empty() ? o.aus() : options.aus;
  std::vector<std::int64_t> model_cols;
  for (int au : aus) {
    const auto it = std::find(o.aus().begin(), o.aus().end(), au);
    if (it == o.aus().end())
      throw std::invalid_argument("predict: AU" + std::to_string(au) + " is not one of the model's AUs (" +
                                  au_numbers(o.aus()) + ")");
    model_cols.push_back(it - o.aus().begin());
  }
  const auto cols = au_columns(aus, cache.aus(), cache.path());
  const std::size_t a = cols.size(), ca = cache.aus().size();
  const auto ma = static_cast<std::int64_t>(o.aus().size());
  LoaderOptions lo;
  lo.batch_size = options.batch_size;
  lo.threads = options.loader_threads;
  lo.shuffle = false;
  lo.augment.train = false;
  lo.augment.crop = static_cast<int>(o.crop_size());
  lo.augment.aligned = static_cast<int>(o.aligned_size());
  BatchLoader loader(cache, records, lo);
  loader.start_epoch(0);
  net->eval();
  Predictions p;
  p.aus = aus;
  p.records.reserve(records.size());
  p.probs.reserve(records.size() * a);
  p.labels.reserve(records.size() * a);
  p.intensities.reserve(records.size() * a);
  p.label_intensities.reserve(records.size() * a);
  torch::NoGradGuard no_grad;
  while (auto b = loader.next()) {
    const auto t = to_tensors(*b, device);
    const auto n = static_cast<std::int64_t>(b->size);
    torch::Tensor centres;
    if (options.gt_centres) {
      if (!t.has_landmarks.all().item<bool>())
        throw std::runtime_error(cache.path() + ": --centres gt needs landmarks for every face, record " +
                                 std::to_string(b->records.front()) + "'s batch has a face without");
      centres = t.landmarks.view({n, 49, 2});
    }
    torch::Tensor probs, intens;
    {
      nn::Autocast autocast(device.type(), options.amp && device.is_cuda() ? torch::kBFloat16 : torch::kFloat);
      const auto out = net->forward(t.images, centres);
      probs = torch::sigmoid(out.au_logits.to(torch::kFloat));
      if (out.intensities.defined()) intens = out.intensities.to(torch::kFloat);
    }
    probs = probs.to(torch::kCPU).contiguous();
    const float* pp = probs.data_ptr<float>();
    if (intens.defined()) intens = intens.to(torch::kCPU).contiguous();
    const float* ip = intens.defined() ? intens.data_ptr<float>() : nullptr;
    // The loader's label intensities: NaN where not coded, absent for a cache without any.
    const bool label_int = b->intensities.size() == b->size * ca;
    for (std::int64_t r = 0; r < n; ++r) {
      p.records.push_back(b->records[r]);
      const auto row = static_cast<std::size_t>(r);
      for (std::size_t j = 0; j < a; ++j) {
        p.probs.push_back(pp[r * ma + model_cols[j]]);
        const std::size_t cell = row * ca + static_cast<std::size_t>(cols[j]);
        p.labels.push_back(b->labels[cell]);
        p.intensities.push_back(ip ? ip[r * ma + model_cols[j]] : kNaNf);
        p.label_intensities.push_back(label_int ? b->intensities[cell] : kNaNf);
      }
    }
    if (options.progress) options.progress(p.records.size(), records.size());
  }
  return p;
}

void write_predictions_csv(const std::string& path, const Predictions& p, const CacheReader* cache) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error(path + ": cannot write the predictions file");
  out << "record,subject";
  for (const char* suffix : {"_prob", "_label", "_int", "_label_int"})
    for (int au : p.aus) out << ",AU" << au << suffix;
  out << '\n';
  const std::size_t a = p.aus.size();
  // An intensity cell is empty for NaN (no head / not coded); vectors of another size
  // (built by hand without intensities) count as all NaN.
  auto intensity = [&](const std::vector<float>& v, std::size_t k) {
    if (v.size() != p.rows() * a || std::isnan(v[k])) return std::string();
    std::ostringstream os;
    os << v[k];
    return os.str();
  };
  for (std::size_t r = 0; r < p.rows(); ++r) {
    out << p.records[r] << ',' << (cache ? cache->subject(p.records[r]) : std::string());
    for (std::size_t j = 0; j < a; ++j) out << ',' << p.probs[r * a + j];
    for (std::size_t j = 0; j < a; ++j) out << ',' << int(p.labels[r * a + j]);
    for (std::size_t j = 0; j < a; ++j) out << ',' << intensity(p.intensities, r * a + j);
    for (std::size_t j = 0; j < a; ++j) out << ',' << intensity(p.label_intensities, r * a + j);
    out << '\n';
  }
  if (!out) throw std::runtime_error(path + ": write failed");
}

Predictions read_predictions_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the predictions file");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(path + ":1: empty predictions file");
  const auto head = text::split(text::trim(line), ',');
  Predictions p;
  // Two column groups per AU (probability, label), four with intensities (files written
  // before intensities existed have two).
  // With them, the column in the middle of the AU columns is the first AU<n>_int.
  const std::size_t cols = head.size() >= 2 ? head.size() - 2 : 0;
  const auto ends_with = [](const std::string& s, const std::string& end) {
    return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
  };
  const bool with_int = cols >= 4 && cols % 4 == 0 && ends_with(head[2 + cols / 2], "_int");
  const std::size_t a = with_int ? cols / 4 : cols / 2;
  if (head.size() < 4 || head[0] != "record" || head[1] != "subject" || cols % 2 != 0)
    throw std::runtime_error(path +
                             ":1: expected the header record,subject,AU<n>_prob...,AU<n>_label...[,"
                             "AU<n>_int...,AU<n>_label_int...]");
  for (std::size_t j = 0; j < a; ++j) {
    const auto& h = head[2 + j];
    const auto au = h.size() > 7 && h.rfind("AU", 0) == 0 ? text::parse_int(h.substr(2, h.size() - 7)) : std::nullopt;
    if (!au || h.substr(h.size() - 5) != "_prob" || head[2 + a + j] != "AU" + std::to_string(*au) + "_label")
      throw std::runtime_error(path + ":1: column '" + h + "' is not AU<n>_prob matching AU<n>_label");
    if (with_int && (head[2 + 2 * a + j] != "AU" + std::to_string(*au) + "_int" ||
                     head[2 + 3 * a + j] != "AU" + std::to_string(*au) + "_label_int"))
      throw std::runtime_error(path + ":1: columns '" + head[2 + 2 * a + j] + "', '" + head[2 + 3 * a + j] +
                               "' are not AU" + std::to_string(*au) + "_int, AU" + std::to_string(*au) + "_label_int");
    p.aus.push_back(static_cast<int>(*au));
  }
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    line = text::trim(line);
    if (line.empty()) continue;
    const auto cells = text::split(line, ',');
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (cells.size() != head.size())
      throw std::runtime_error(where + std::to_string(cells.size()) + " cells, expected " +
                               std::to_string(head.size()));
    const auto rec = text::parse_int(cells[0]);
    if (!rec || *rec < 0) throw std::runtime_error(where + "bad record number");
    p.records.push_back(static_cast<std::size_t>(*rec));
    for (std::size_t j = 0; j < a; ++j) {
      const auto v = text::parse_float(cells[2 + j]);
      if (!v || *v < 0 || *v > 1)
        throw std::runtime_error(where + "probability '" + cells[2 + j] + "' is not in [0, 1]");
      p.probs.push_back(static_cast<float>(*v));
    }
    for (std::size_t j = 0; j < a; ++j) {
      const auto v = text::parse_int(cells[2 + a + j]);
      if (!v || (*v != 1 && *v != 0 && *v != -1 && *v != 9))
        throw std::runtime_error(where + "label '" + cells[2 + a + j] + "' is not 1, 0, -1 or 9");
      p.labels.push_back(static_cast<std::int8_t>(*v == 9 ? -1 : *v));
    }
    for (std::size_t g = 0; g < 2; ++g)
      for (std::size_t j = 0; j < a; ++j) {
        auto& dst = g == 0 ? p.intensities : p.label_intensities;
        if (!with_int) {
          dst.push_back(kNaNf);
          continue;
        }
        const std::string& cell = cells[2 + (2 + g) * a + j];
        const auto v = cell.empty() ? std::optional<double>(kNaNf) : text::parse_float(cell);
        if (!v || (!std::isnan(*v) && (*v < 0 || *v > 5)))
          throw std::runtime_error(where + head[2 + (2 + g) * a + j] + " '" + cell +
                                   "' is not an intensity in [0, 5] (or empty)");
        dst.push_back(static_cast<float>(*v));
      }
  }
  return p;
}

}  // namespace hicomex::training
