// Predictions of a HiCOMEX network over cache records (see evaluate.h).
#include "training/evaluate.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "nn/autocast.h"
#include "training/loader.h"
#include "training/tensors.h"
#include "text_util.h"

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

Predictions predict(nn::Hicomex& net, const CacheReader& cache, std::vector<std::size_t> records,
                    const torch::Device& device, const PredictOptions& options) {
  if (records.empty())
    for (std::size_t i = 0; i < cache.size(); ++i) records.push_back(i);
  const auto& o = net->options();
  const auto cols = au_columns(o.aus(), cache.aus(), cache.path());
  const std::size_t a = cols.size(), ca = cache.aus().size();
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
  p.aus = o.aus();
  p.records.reserve(records.size());
  p.probs.reserve(records.size() * a);
  p.labels.reserve(records.size() * a);
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
    torch::Tensor probs;
    {
      nn::Autocast autocast(device.type(), options.amp && device.is_cuda() ? torch::kBFloat16 : torch::kFloat);
      probs = torch::sigmoid(net->forward(t.images, centres).au_logits.to(torch::kFloat));
    }
    probs = probs.to(torch::kCPU).contiguous();
    const float* pp = probs.data_ptr<float>();
    for (std::int64_t r = 0; r < n; ++r) {
      p.records.push_back(b->records[r]);
      for (std::size_t j = 0; j < a; ++j) {
        p.probs.push_back(pp[r * static_cast<std::int64_t>(a) + static_cast<std::int64_t>(j)]);
        p.labels.push_back(b->labels[r * ca + static_cast<std::size_t>(cols[j])]);
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
  for (int au : p.aus) out << ",AU" << au << "_prob";
  for (int au : p.aus) out << ",AU" << au << "_label";
  out << '\n';
  const std::size_t a = p.aus.size();
  for (std::size_t r = 0; r < p.rows(); ++r) {
    out << p.records[r] << ',' << (cache ? cache->subject(p.records[r]) : std::string());
    for (std::size_t j = 0; j < a; ++j) out << ',' << p.probs[r * a + j];
    for (std::size_t j = 0; j < a; ++j) out << ',' << int(p.labels[r * a + j]);
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
  if (head.size() < 4 || head[0] != "record" || head[1] != "subject" || (head.size() - 2) % 2 != 0)
    throw std::runtime_error(path + ":1: expected the header record,subject,AU<n>_prob...,AU<n>_label...");
  const std::size_t a = (head.size() - 2) / 2;
  for (std::size_t j = 0; j < a; ++j) {
    const auto& h = head[2 + j];
    const auto au = h.size() > 7 && h.rfind("AU", 0) == 0 ? text::parse_int(h.substr(2, h.size() - 7)) : std::nullopt;
    if (!au || h.substr(h.size() - 5) != "_prob" || head[2 + a + j] != "AU" + std::to_string(*au) + "_label")
      throw std::runtime_error(path + ":1: column '" + h + "' is not AU<n>_prob matching AU<n>_label");
    p.aus.push_back(static_cast<int>(*au));
  }
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    line = text::trim(line);
    if (line.empty()) continue;
    const auto cells = text::split(line, ',');
    if (cells.size() != head.size())
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + std::to_string(cells.size()) +
                               " cells, expected " + std::to_string(head.size()));
    const auto rec = text::parse_int(cells[0]);
    if (!rec || *rec < 0) throw std::runtime_error(path + ":" + std::to_string(line_no) + ": bad record number");
    p.records.push_back(static_cast<std::size_t>(*rec));
    for (std::size_t j = 0; j < a; ++j) {
      const auto v = text::parse_float(cells[2 + j]);
      if (!v || *v < 0 || *v > 1)
        throw std::runtime_error(path + ":" + std::to_string(line_no) + ": probability '" + cells[2 + j] +
                                 "' is not in [0, 1]");
      p.probs.push_back(static_cast<float>(*v));
    }
    for (std::size_t j = 0; j < a; ++j) {
      const auto v = text::parse_int(cells[2 + a + j]);
      if (!v || (*v != 1 && *v != 0 && *v != -1 && *v != 9))
        throw std::runtime_error(path + ":" + std::to_string(line_no) + ": label '" + cells[2 + a + j] +
                                 "' is not 1, 0, -1 or 9");
      p.labels.push_back(static_cast<std::int8_t>(*v == 9 ? -1 : *v));
    }
  }
  return p;
}

}  // namespace hicomex::training
