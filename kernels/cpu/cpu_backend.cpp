#include "kernels/cpu/cpu_backend.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "kernels/backend/byte_size.hpp"
#include "kernels/backend/out_of_host_memory.hpp"
#include "kernels/cpu/aligned_floats.hpp"
#include "kernels/cpu/small_gemm.hpp"
#include "kernels/cpu/transpose.hpp"
#include "kernels/math/activations.hpp"
#include "kernels/math/dropout.hpp"
#include "kernels/math/losses.hpp"
#include "kernels/math/row_activations.hpp"

namespace hf {
namespace {

// The three GEMMs of one layer for one batch height, in libxsmm's column-major terms.
// Row-major X[rows][in], W[out][in], WT[in][out], Z[rows][out] read column-major are
// Xc (in x rows), Wc (in x out), WTc (out x in), Zc (out x rows):
//   forward        Zc  = WTc * Xc          (out x rows)
//   weight grad    dWc = Xc * dZc^T        (in x out)
//   input grad     dXc = Wc * dZc          (in x rows)
struct LayerGemms {
  SmallGemm forward, weight_gradient, input_gradient;
};

bool is_active(const StepInfo& info, int m) { return info.active == nullptr || info.active[m] != 0; }

// Fills out[0..count) with one layer's draws for a network at a step: dropout multipliers
// (0 or keep_scale) or RReLU slopes. Same numbers as dropout.hpp's per-element functions.
void fill_dropout_multipliers(std::uint64_t seed, int layer, std::uint64_t step, std::size_t count, float p,
                              float keep_scale, float* out) {
  for (std::size_t e = 0; e < count; e += 4) {
    const Philox4 b = random_block(seed, RandomStream::Dropout, static_cast<std::uint32_t>(layer), step,
                                   static_cast<std::uint32_t>(e >> 2));
    for (std::size_t j = 0; j < 4 && e + j < count; ++j)
      out[e + j] = dropout_multiplier_for(uniform_float(b.v[j]), p, keep_scale);
  }
}

void fill_rrelu_slopes(std::uint64_t seed, int layer, std::uint64_t step, std::size_t count, float* out) {
  for (std::size_t e = 0; e < count; e += 4) {
    const Philox4 b = random_block(seed, RandomStream::RReLU, static_cast<std::uint32_t>(layer), step,
                                   static_cast<std::uint32_t>(e >> 2));
    for (std::size_t j = 0; j < 4 && e + j < count; ++j) out[e + j] = rrelu_slope(uniform_float(b.v[j]));
  }
}

// The size of every buffer a CpuPack holds, in floats: the constructor allocates exactly these
// and cpu_workspace_bytes adds them up, so the memory plan is what a workspace allocates.
struct CpuPackSizes {
  std::size_t parameters = 0;  // each of parameters, gradients and two optimizer states
  std::size_t transposed = 0;  // every network's weights transposed, for the forward GEMMs
  std::size_t transposed_per_network = 0;
  std::vector<std::size_t> transposed_offset;  // per layer, within a network's transposed weights
  // Per layer, models x max_rows x out(l): pre-activation, activation and gradient each, and
  // the dropout output (0 floats when no network of the pack uses dropout).
  std::vector<std::size_t> layer, dropped;
  std::size_t scratch = 0;  // one network's widest layer block of random multipliers
  std::size_t models = 0;   // per-network loss, health and confusion counters
};

CpuPackSizes cpu_pack_sizes(const PackSpec& pack, int max_rows) {
  const ParameterLayout& L = pack.layout;
  CpuPackSizes sizes;
  sizes.models = static_cast<std::size_t>(pack.models());
  sizes.parameters = sizes.models * L.size;
  for (int l = 0; l < L.layers(); ++l) {
    sizes.transposed_offset.push_back(sizes.transposed_per_network);
    sizes.transposed_per_network += (L.weight_count(l) + 15) / 16 * 16;
  }
  sizes.transposed = sizes.models * sizes.transposed_per_network;
  bool any_dropout = false;
  for (const PackMember& m : pack.members) any_dropout = any_dropout || m.dropout > 0.0;
  for (int l = 0; l < L.layers(); ++l) {
    const std::size_t block = static_cast<std::size_t>(max_rows) * L.out(l);
    sizes.layer.push_back(sizes.models * block);
    sizes.dropped.push_back(any_dropout ? sizes.models * block : 0);
    sizes.scratch = std::max(sizes.scratch, block);
  }
  return sizes;
}

std::size_t per_network_counter_bytes() {
  // loss_, loss_sums_, health_, confusion_
  return 2 * sizeof(double) + sizeof(NetworkHealth) + sizeof(ConfusionCounts);
}

std::string describe_pack(const PackSpec& pack, int max_rows) {
  std::string widths;
  for (int w : pack.layout.widths) widths += (widths.empty() ? "" : "-") + std::to_string(w);
  return std::to_string(pack.models()) + (pack.models() == 1 ? " network" : " networks") + " of widths " + widths +
         ", " + std::to_string(max_rows) + " rows";
}

// One pack's buffers in host memory and the primitives over them, one network at a time.
class CpuPack final : public PackWorkspace {
 public:
  CpuPack(const PackSpec& pack, int rows);

  std::size_t allocated_bytes() const override { return allocated_bytes_; }

  void write_parameters(const float* parameters_) override;
  void read_parameters(float* parameters_) override;
  void read_gradients(float* gradients) override;
  void write_gradients(const float* gradients) override;
  std::vector<float> read_losses() override;
  std::vector<NetworkHealth> read_health() override;
  std::vector<ConfusionCounts> read_confusion() override;
  void read_layer(int layer, LayerBuffer buffer, int rows, float* values) override;
  void write_layer(int layer, LayerBuffer buffer, int rows, const float* values) override;
  void poison() override;

  void load_batch(const float* features, const float* labels, int rows) override;
  void linear_forward(int layer, const StepInfo& info) override;
  void bias_activation_dropout(int layer, const StepInfo& info) override;
  void output_loss_gradient(const StepInfo& info) override;
  void linear_backward(int layer, const StepInfo& info) override;
  void activation_backward(int layer, const StepInfo& info) override;
  void l1_penalty(const StepInfo& info) override;
  void check_loss(const StepInfo& info) override;
  void accumulate_loss(const StepInfo& info) override;
  std::vector<double> take_loss_sums() override;
  void optimizer_step(const StepInfo& info, const std::vector<OptimizerStep>& scalars) override;
  void check_parameters() override;
  void reset_confusion() override;
  void count_confusion(const StepInfo& info, float threshold) override;

 private:
  // Every allocation of the workspace goes through these, which count what they allocate and
  // turn an allocation failure into a message naming the buffer and its size.
  AlignedFloats allocate(const char* what, std::size_t count) {
    try {
      AlignedFloats buffer(count);
      allocated_bytes_ += buffer.bytes();
      return buffer;
    } catch (const std::bad_alloc&) {
      throw_out_of_memory(what, AlignedFloats::bytes_for(count));
    }
  }
  template <typename T>
  void allocate_per_network(std::vector<T>& values, std::size_t count, const T& value) {
    try {
      values.assign(count, value);
      allocated_bytes_ += values.capacity() * sizeof(T);
    } catch (const std::bad_alloc&) {
      throw_out_of_memory("per-network counters", count * sizeof(T));
    }
  }
  [[noreturn]] void throw_out_of_memory(const char* what, std::size_t bytes) const {
    const std::size_t needed = cpu_workspace_bytes(spec_, max_rows_).total();
    throw OutOfHostMemory("cannot allocate " + byte_size(bytes) + " of host memory for the " + what +
                              " of a CPU workspace (" + describe_pack(spec_, max_rows_) + "), which needs " +
                              byte_size(needed) + " in all, " + byte_size(allocated_bytes_) +
                              " of it already allocated; other processes took the memory the plan counted on, or "
                              "a limit (ulimit -v/-d) applies: free memory, or use fewer worker threads "
                              "(-j/--cpu-count), or smaller hidden_layers or batch_size",
                          bytes);
  }

  int models() const { return spec_.models(); }
  const PackMember& member(int m) const { return spec_.members[m]; }
  std::size_t block(int layer) const { return static_cast<std::size_t>(max_rows_) * spec_.layout.out(layer); }
  float* at(std::vector<AlignedFloats>& buffers, int layer, int m) { return buffers[layer].data() + m * block(layer); }
  float* param(int m) { return params_.data() + m * parameters_; }
  float* grad(int m) { return grads_.data() + m * parameters_; }
  bool drops(int m, Mode mode) const { return mode == Mode::Training && member(m).dropout > 0.0; }

  // What layer `layer` reads for network m: the batch, or the previous layer's output after
  // dropout (when dropout applied) or after the activation.
  const float* input(int layer, int m, Mode mode) {
    if (layer == 0) return batch_x_;
    return drops(m, mode) ? at(dropped_, layer - 1, m) : at(y_, layer - 1, m);
  }

  float* layer_buffer(LayerBuffer buffer, int layer, int m) {
    switch (buffer) {
      case LayerBuffer::PreActivation: return at(z_, layer, m);
      case LayerBuffer::Activation: return at(y_, layer, m);
      case LayerBuffer::Output:  // the output layer has no dropout
        return member(m).dropout > 0.0 && layer + 1 < spec_.layout.layers() ? at(dropped_, layer, m) : at(y_, layer, m);
      case LayerBuffer::Gradient: return at(g_, layer, m);
    }
    return nullptr;
  }

  const std::vector<LayerGemms>& gemms(int rows) {
    for (const auto& entry : gemms_by_rows_)
      if (entry.first == rows) return entry.second;
    std::vector<LayerGemms> kernels;
    const ParameterLayout& L = spec_.layout;
    for (int l = 0; l < L.layers(); ++l) {
      const int in = L.in(l), out = L.out(l);
      kernels.push_back({SmallGemm(out, rows, in, out, in, out, false), SmallGemm(in, out, rows, in, out, in, true),
                         SmallGemm(in, rows, out, in, out, in, false)});
    }
    gemms_by_rows_.emplace_back(rows, std::move(kernels));
    return gemms_by_rows_.back().second;
  }

  void refresh_transposed(int m) {
    const ParameterLayout& L = spec_.layout;
    for (int l = 0; l < L.layers(); ++l) {
      const float* w = param(m) + L.weight_offset[l];
      float* wt = transposed_.data() + m * transposed_size_ + transposed_offset_[l];
      transpose(w, L.out(l), L.in(l), wt);
    }
  }

  // Network m's dropout multipliers for one layer at one step, in the scratch_ buffer; the
  // backward pass draws them again rather than storing them.
  const float* dropout_multipliers(int m, int layer, std::uint64_t step, std::size_t count) {
    fill_dropout_multipliers(member(m).seed, layer, step, count, static_cast<float>(member(m).dropout),
                             dropout_keep_scale(member(m).dropout), scratch_.data());
    return scratch_.data();
  }

  // Network m's RReLU training slopes for one layer at one step, in the scratch_ buffer.
  const float* rrelu_slopes(int m, int layer, std::uint64_t step, std::size_t count) {
    fill_rrelu_slopes(member(m).seed, layer, step, count, scratch_.data());
    return scratch_.data();
  }

  // The negative-side slope of element-wise activations that take one: PReLU's learned slope,
  // RReLU's evaluation slope; ignored by the others.
  float negative_slope(int m) {
    return member(m).activation == Activation::PReLU ? param(m)[spec_.layout.prelu_offset] : kRreluEvalSlope;
  }

  PackSpec spec_;
  int max_rows_ = 0;
  std::size_t parameters_ = 0;  // per network, padded
  std::size_t transposed_size_ = 0;
  std::vector<std::size_t> transposed_offset_;

  AlignedFloats params_, grads_, state1_, state2_, transposed_;
  // Per layer, models x max_rows_ x out(l): pre-activation, activation output, dropout output
  // (only when some network uses dropout) and the gradient at the output / pre-activation.
  std::vector<AlignedFloats> z_, y_, dropped_, g_;
  AlignedFloats scratch_;  // one network's layer block of random multipliers

  const float* batch_x_ = nullptr;
  const float* batch_y_ = nullptr;
  std::vector<double> loss_;
  std::vector<double> loss_sums_;
  std::vector<NetworkHealth> health_;
  std::vector<ConfusionCounts> confusion_;
  std::vector<std::pair<int, std::vector<LayerGemms>>> gemms_by_rows_;
  std::size_t allocated_bytes_ = 0;
};

CpuPack::CpuPack(const PackSpec& pack, int rows) : spec_(pack), max_rows_(rows) {
  const CpuPackSizes sizes = cpu_pack_sizes(spec_, rows);
  const ParameterLayout& L = spec_.layout;
  const std::size_t count = static_cast<std::size_t>(spec_.models());
  parameters_ = L.size;
  transposed_size_ = sizes.transposed_per_network;
  transposed_offset_ = sizes.transposed_offset;
  params_ = allocate("parameters", sizes.parameters);
  grads_ = allocate("gradients", sizes.parameters);
  state1_ = allocate("optimizer state", sizes.parameters);
  state2_ = allocate("optimizer state", sizes.parameters);
  transposed_ = allocate("transposed weights", sizes.transposed);
  for (int l = 0; l < L.layers(); ++l) {
    z_.push_back(allocate("pre-activations", sizes.layer[l]));
    y_.push_back(allocate("activations", sizes.layer[l]));
    g_.push_back(allocate("activation gradients", sizes.layer[l]));
    dropped_.push_back(allocate("dropout outputs", sizes.dropped[l]));
  }
  scratch_ = allocate("dropout scratch", sizes.scratch);
  allocate_per_network(loss_, count, 0.0);
  allocate_per_network(loss_sums_, count, 0.0);
  allocate_per_network(health_, count, NetworkHealth{});
  allocate_per_network(confusion_, count, ConfusionCounts{});
}

void CpuPack::write_parameters(const float* parameters) {
  std::copy(parameters, parameters + params_.size(), params_.data());
  grads_.zero();
  state1_.zero();
  state2_.zero();
  for (int m = 0; m < models(); ++m) refresh_transposed(m);
}

void CpuPack::read_parameters(float* parameters) {
  std::copy(params_.data(), params_.data() + params_.size(), parameters);
}

void CpuPack::read_gradients(float* gradients) { std::copy(grads_.data(), grads_.data() + grads_.size(), gradients); }

void CpuPack::write_gradients(const float* gradients) {
  std::copy(gradients, gradients + grads_.size(), grads_.data());
}

std::vector<float> CpuPack::read_losses() { return std::vector<float>(loss_.begin(), loss_.end()); }

std::vector<NetworkHealth> CpuPack::read_health() { return health_; }

std::vector<ConfusionCounts> CpuPack::read_confusion() { return confusion_; }

void CpuPack::read_layer(int layer, LayerBuffer buffer, int rows, float* values) {
  const std::size_t count = static_cast<std::size_t>(rows) * spec_.layout.out(layer);
  for (int m = 0; m < models(); ++m) {
    const float* source = layer_buffer(buffer, layer, m);
    std::copy(source, source + count, values + m * count);
  }
}

void CpuPack::write_layer(int layer, LayerBuffer buffer, int rows, const float* values) {
  const std::size_t count = static_cast<std::size_t>(rows) * spec_.layout.out(layer);
  for (int m = 0; m < models(); ++m)
    std::copy(values + m * count, values + (m + 1) * count, layer_buffer(buffer, layer, m));
}

void CpuPack::poison() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (auto* buffers : {&z_, &y_, &dropped_, &g_})
    for (AlignedFloats& b : *buffers) std::fill(b.data(), b.data() + b.size(), nan);
  std::fill(grads_.data(), grads_.data() + grads_.size(), nan);
}

void CpuPack::load_batch(const float* features, const float* labels, int rows) {
  if (rows > max_rows_) throw std::logic_error("load_batch: more rows than the workspace holds");
  batch_x_ = features;
  batch_y_ = labels;
}

void CpuPack::linear_forward(int layer, const StepInfo& info) {
  const SmallGemm& gemm = gemms(info.rows)[layer].forward;
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m)) continue;
    const float* wt = transposed_.data() + m * transposed_size_ + transposed_offset_[layer];
    gemm(wt, input(layer, m, info.mode), at(z_, layer, m));
  }
}

void CpuPack::bias_activation_dropout(int layer, const StepInfo& info) {
  const ParameterLayout& L = spec_.layout;
  const int width = L.out(layer);
  const std::size_t count = static_cast<std::size_t>(info.rows) * width;
  const bool output_layer = layer == L.layers() - 1;
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m)) continue;
    const Activation activation = member(m).activation;
    float* z = at(z_, layer, m);
    float* y = at(y_, layer, m);
    const float* bias = param(m) + L.bias_offset[layer];
    for (int r = 0; r < info.rows; ++r) {
      float* row = z + static_cast<std::size_t>(r) * width;
      for (int c = 0; c < width; ++c) row[c] += bias[c];
    }
    if (output_layer) {
      for (std::size_t i = 0; i < count; ++i) y[i] = sigmoid_f(z[i]);
      continue;
    }
    if (is_row_activation(activation)) {
      for (int r = 0; r < info.rows; ++r) {
        row_activation_forward(activation, z + static_cast<std::size_t>(r) * width,
                               y + static_cast<std::size_t>(r) * width, width);
      }
    } else if (activation == Activation::RReLU && info.mode == Mode::Training) {
      const float* slopes = rrelu_slopes(m, layer, info.step, count);
      for (std::size_t i = 0; i < count; ++i) y[i] = activate<Activation::RReLU>(z[i], slopes[i]);
    } else {
      const float slope = negative_slope(m);
      with_elementwise_activation(activation, [&](auto a) {
        for (std::size_t i = 0; i < count; ++i) y[i] = activate<decltype(a)::value>(z[i], slope);
      });
    }
    if (drops(m, info.mode)) {
      const float* multipliers = dropout_multipliers(m, layer, info.step, count);
      float* out = at(dropped_, layer, m);
      for (std::size_t i = 0; i < count; ++i) out[i] = y[i] * multipliers[i];
    }
  }
}

void CpuPack::output_loss_gradient(const StepInfo& info) {
  const ParameterLayout& L = spec_.layout;
  const int last = L.layers() - 1;
  const float norm = 1.0f / static_cast<float>(info.rows);
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m)) continue;
    const Loss loss = member(m).loss;
    const float* p = at(y_, last, m);
    float* g = at(g_, last, m);
    double total = 0.0;
    for (int r = 0; r < info.rows; ++r) {
      total += loss_value(loss, p[r], batch_y_[r]);
      g[r] = output_gradient(loss, p[r], batch_y_[r], norm);
    }
    loss_[m] = total / info.rows;
    grad(m)[L.prelu_offset] = 0.0f;
  }
}

void CpuPack::linear_backward(int layer, const StepInfo& info) {
  const ParameterLayout& L = spec_.layout;
  const LayerGemms& layer_gemms = gemms(info.rows)[layer];
  const int width = L.out(layer);
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m)) continue;
    const float* g = at(g_, layer, m);
    layer_gemms.weight_gradient(input(layer, m, info.mode), g, grad(m) + L.weight_offset[layer]);
    float* bias_grad = grad(m) + L.bias_offset[layer];
    for (int c = 0; c < width; ++c) bias_grad[c] = 0.0f;
    for (int r = 0; r < info.rows; ++r) {
      const float* row = g + static_cast<std::size_t>(r) * width;
      for (int c = 0; c < width; ++c) bias_grad[c] += row[c];
    }
    if (layer > 0) {
      // The gradient at the previous layer's (dropout) output.
      layer_gemms.input_gradient(param(m) + L.weight_offset[layer], g, at(g_, layer - 1, m));
    }
  }
}

void CpuPack::activation_backward(int layer, const StepInfo& info) {
  const ParameterLayout& L = spec_.layout;
  const int width = L.out(layer);
  const std::size_t count = static_cast<std::size_t>(info.rows) * width;
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m)) continue;
    const Activation activation = member(m).activation;
    const float* z = at(z_, layer, m);
    const float* y = at(y_, layer, m);
    float* g = at(g_, layer, m);
    if (drops(m, info.mode)) {
      const float* multipliers = dropout_multipliers(m, layer, info.step, count);
      for (std::size_t i = 0; i < count; ++i) g[i] *= multipliers[i];
    }
    if (is_row_activation(activation)) {
      for (int r = 0; r < info.rows; ++r) {
        row_activation_backward(activation, y + static_cast<std::size_t>(r) * width,
                                g + static_cast<std::size_t>(r) * width, width);
      }
    } else if (activation == Activation::RReLU && info.mode == Mode::Training) {
      const float* slopes = rrelu_slopes(m, layer, info.step, count);
      for (std::size_t i = 0; i < count; ++i) g[i] *= activation_derivative<Activation::RReLU>(z[i], y[i], slopes[i]);
    } else {
      if (activation == Activation::PReLU) {
        float slope_gradient = 0.0f;
        for (std::size_t i = 0; i < count; ++i) slope_gradient += prelu_slope_gradient(z[i], g[i]);
        grad(m)[L.prelu_offset] += slope_gradient;
      }
      const float slope = negative_slope(m);
      with_elementwise_activation(activation, [&](auto a) {
        for (std::size_t i = 0; i < count; ++i) g[i] *= activation_derivative<decltype(a)::value>(z[i], y[i], slope);
      });
    }
  }
}

void CpuPack::l1_penalty(const StepInfo& info) {
  const std::size_t used = spec_.layout.used;
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m) || member(m).l1 <= 0.0) continue;
    const float l1 = static_cast<float>(member(m).l1);
    const float* p = param(m);
    float* g = grad(m);
    double magnitude = 0.0;
    for (std::size_t i = 0; i < used; ++i) {
      magnitude += std::fabs(p[i]);
      g[i] += l1 * (p[i] > 0.0f ? 1.0f : (p[i] < 0.0f ? -1.0f : 0.0f));
    }
    loss_[m] += l1 * magnitude;
  }
}

void CpuPack::check_loss(const StepInfo& info) {
  for (int m = 0; m < models(); ++m) {
    if (is_active(info, m) && !std::isfinite(loss_[m]) && health_[m].first_nonfinite_loss_step < 0) {
      health_[m].first_nonfinite_loss_step = static_cast<std::int64_t>(info.step);
    }
  }
}

void CpuPack::accumulate_loss(const StepInfo& info) {
  for (int m = 0; m < models(); ++m) {
    if (is_active(info, m)) loss_sums_[m] += loss_[m];
  }
}

std::vector<double> CpuPack::take_loss_sums() {
  std::vector<double> sums(loss_sums_.size(), 0.0);
  sums.swap(loss_sums_);
  return sums;
}

void CpuPack::optimizer_step(const StepInfo& info, const std::vector<OptimizerStep>& scalars) {
  const std::size_t count = parameters_;
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m)) continue;
    float* p = param(m);
    const float* g = grad(m);
    float* s1 = state1_.data() + m * count;
    float* s2 = state2_.data() + m * count;
    const OptimizerStep s = scalars[m];
    with_optimizer(member(m).optimizer, [&](auto o) {
      for (std::size_t i = 0; i < count; ++i) optimizer_update<decltype(o)::value>(p[i], g[i], s1[i], s2[i], s);
    });
    refresh_transposed(m);
  }
}

void CpuPack::check_parameters() {
  for (int m = 0; m < models(); ++m) {
    const float* p = param(m);
    bool finite = true;
    for (std::size_t i = 0; i < parameters_; ++i) finite = finite && std::isfinite(p[i]);
    if (!finite) health_[m].nonfinite_parameters = true;
  }
}

void CpuPack::reset_confusion() { confusion_.assign(models(), ConfusionCounts{}); }

void CpuPack::count_confusion(const StepInfo& info, float threshold) {
  const int last = spec_.layout.layers() - 1;
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m)) continue;
    const float* p = at(y_, last, m);
    ConfusionCounts& c = confusion_[m];
    for (int r = 0; r < info.rows; ++r) {
      const bool predicted = p[r] > threshold;
      const bool actual = batch_y_[r] > 0.5f;
      c.tp += predicted && actual;
      c.fp += predicted && !actual;
      c.fn += !predicted && actual;
      c.tn += !predicted && !actual;
    }
  }
}

}  // namespace

WorkspaceBytes cpu_workspace_bytes(const PackSpec& pack, int max_rows) {
  const CpuPackSizes sizes = cpu_pack_sizes(pack, max_rows);
  WorkspaceBytes bytes;
  bytes.parameters = 4 * AlignedFloats::bytes_for(sizes.parameters) + AlignedFloats::bytes_for(sizes.transposed);
  for (std::size_t l = 0; l < sizes.layer.size(); ++l)
    bytes.activations += 3 * AlignedFloats::bytes_for(sizes.layer[l]) + AlignedFloats::bytes_for(sizes.dropped[l]);
  bytes.other = AlignedFloats::bytes_for(sizes.scratch) + sizes.models * per_network_counter_bytes();
  return bytes;
}

std::size_t cpu_library_bytes(std::size_t layer_shapes) {
  return small_gemm_cache_bytes(3 * layer_shapes);  // gemms(): forward, weight and input gradient
}

std::unique_ptr<PackWorkspace> CpuBackend::create_workspace(const PackSpec& spec, int max_rows) {
  return std::make_unique<CpuPack>(spec, max_rows);
}

std::string cpu_backend_description() { return std::string("CPU with ") + small_gemm_library(); }

}  // namespace hf
