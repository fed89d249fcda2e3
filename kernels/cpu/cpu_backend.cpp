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
#include "kernels/cpu/random_words.hpp"
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

// Rows a row activation runs side by side (row_activations.hpp): one 512-bit or two 256-bit
// vectors of floats.
constexpr int kRowLanes = 16;

// Runs body(i) for every i in [0, count) as one vector loop of 16 lanes (-fopenmp-simd). With
// 256-bit vectors each operation becomes two independent instructions, which keeps the core
// busy through the long exp/log/tanh chains of the shared math; one vector at a time leaves it
// waiting on their latency. The body must not depend on other iterations.
template <typename Body>
void vector_loop(std::size_t count, Body&& body) {
#pragma omp simd simdlen(16)
  for (std::size_t i = 0; i < count; ++i) body(i);
}

// z[r][c] += bias[c] for every row.
void add_bias(float* z, const float* bias, int rows, int width) {
  for (int r = 0; r < rows; ++r) {
    float* row = z + static_cast<std::size_t>(r) * width;
#pragma omp simd
    for (int c = 0; c < width; ++c) row[c] += bias[c];
  }
}

// sums[c] = g[0][c] + g[1][c] + ... in row order (the bias gradient), vectorised across c.
void sum_rows(const float* g, int rows, int width, float* sums) {
  for (int c = 0; c < width; ++c) sums[c] = 0.0f;
  for (int r = 0; r < rows; ++r) {
    const float* row = g + static_cast<std::size_t>(r) * width;
#pragma omp simd
    for (int c = 0; c < width; ++c) sums[c] += row[c];
  }
}

// sum |p[i]| in double, in eight interleaved partial sums added in a fixed order. One running
// sum is a chain of dependent additions that took as long as a training step; the order only
// moves the last bits of a double, which the float loss does not show (and the CUDA backend's
// block reduction adds in yet another order). The sum enters the loss, never a gradient.
double sum_of_magnitudes(const float* p, std::size_t count) {
  double partial[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8)
    for (int k = 0; k < 8; ++k) partial[k] += std::fabs(p[i + k]);
  for (int k = 0; i < count; ++i, ++k) partial[k] += std::fabs(p[i]);
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

// part[i] = activation_part<A>(z[i]). Mish's tanh(softplus(z)) goes one function per pass
// through `scratch` (1.7 against 2.9 ns an element for the one chain).
template <Activation A>
void activation_parts(const float* z, std::size_t count, float* part, float* scratch) {
  if constexpr (A == Activation::Mish) {
    vector_loop(count, [&](std::size_t i) { scratch[i] = exp_f(z[i]); });
    vector_loop(count, [&](std::size_t i) { part[i] = log1p_f(scratch[i]); });
    vector_loop(count, [&](std::size_t i) { part[i] = tanh_f(part[i]); });
  } else {
    vector_loop(count, [&](std::size_t i) { part[i] = activation_part<A>(z[i]); });
  }
}

// Whether an activation keeps a value per element from the forward pass for the backward pass.
bool saves_values(Activation a) {
  bool saves = a == Activation::RReLU;
  with_elementwise_activation(a, [&](auto tag) { saves = saves || has_activation_part<decltype(tag)::value>(); });
  return saves;
}

// Fills out[0..count) with one layer's draws for a network at a step: dropout multipliers
// (0 or keep_scale) or RReLU slopes, the same numbers as dropout.hpp's per-element functions.
// `words` holds count rounded up to a multiple of 4.
void fill_dropout_multipliers(std::uint64_t seed, int layer, std::uint64_t step, std::size_t count, float p,
                              float keep_scale, std::uint32_t* words, float* out) {
  philox_words(seed, RandomStream::Dropout, static_cast<std::uint32_t>(layer), step, 0, (count + 3) / 4, words);
  vector_loop(count, [&](std::size_t i) { out[i] = dropout_multiplier_for(uniform_float(words[i]), p, keep_scale); });
}

void fill_rrelu_slopes(std::uint64_t seed, int layer, std::uint64_t step, std::size_t count, std::uint32_t* words,
                       float* out) {
  philox_words(seed, RandomStream::RReLU, static_cast<std::uint32_t>(layer), step, 0, (count + 3) / 4, words);
  vector_loop(count, [&](std::size_t i) { out[i] = rrelu_slope(uniform_float(words[i])); });
}

// The size of every buffer a CpuPack holds, in floats: the constructor allocates exactly these
// and cpu_workspace_bytes adds them up, so the memory plan is what a workspace allocates.
struct CpuPackSizes {
  std::size_t parameters = 0;  // each of parameters, gradients and two optimizer states
  std::size_t transposed = 0;  // every network's weights transposed, for the forward GEMMs
  std::size_t transposed_per_network = 0;
  std::vector<std::size_t> transposed_offset;  // per layer, within a network's transposed weights
  // Per layer, models x max_rows x out(l): pre-activation, activation and gradient each; the
  // dropout output and the dropout multipliers (0 floats when no network of the pack uses
  // dropout); the values the backward pass takes from the forward pass (RReLU's slopes, the
  // activation_part of activations that have one; 0 floats when no network needs them).
  std::vector<std::size_t> layer, dropped, saved;
  std::size_t loss_terms = 0;    // one network's per-row losses
  std::size_t random_words = 0;  // one network's widest layer block of Philox words (uint32)
  std::size_t row_lanes = 0;     // each of two: kRowLanes rows of the widest layer, for row activations
  std::size_t models = 0;        // per-network loss, health and confusion counters
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
  bool any_dropout = false, any_rrelu = false, any_saved = false, any_row_activation = false;
  for (const PackMember& m : pack.members) {
    any_row_activation = any_row_activation || is_row_activation(m.activation);
    any_dropout = any_dropout || m.dropout > 0.0;
    any_rrelu = any_rrelu || m.activation == Activation::RReLU;
    any_saved = any_saved || saves_values(m.activation);
  }
  std::size_t widest = 0;
  for (int l = 0; l < L.layers(); ++l) {
    const std::size_t block = static_cast<std::size_t>(max_rows) * L.out(l);
    widest = std::max(widest, block);
    sizes.layer.push_back(sizes.models * block);
    sizes.dropped.push_back(any_dropout ? sizes.models * block : 0);
    sizes.saved.push_back(any_saved ? sizes.models * block : 0);
  }
  sizes.loss_terms = static_cast<std::size_t>(max_rows);
  if (any_dropout || any_rrelu) sizes.random_words = (widest + 3) / 4 * 4;
  if (any_row_activation) {
    const int widest_layer = *std::max_element(L.widths.begin() + 1, L.widths.end());
    sizes.row_lanes = static_cast<std::size_t>(kRowLanes) * widest_layer;
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
  void read_training_state(float* parameters, float* first_state, float* second_state) override;
  void write_training_state(const float* parameters, const float* first_state, const float* second_state) override;
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

  // Network m's copy of layer l's weights transposed, which the forward GEMM reads.
  float* transposed(int m, int l) { return transposed_.data() + m * transposed_size_ + transposed_offset_[l]; }

  void refresh_transposed(int m) {
    const ParameterLayout& L = spec_.layout;
    for (int l = 0; l < L.layers(); ++l) transpose(param(m) + L.weight_offset[l], L.out(l), L.in(l), transposed(m, l));
  }

  // Network m's dropout multipliers for one layer at this step, drawn by the forward pass into
  // multipliers_, where the backward pass finds them.
  const float* draw_dropout_multipliers(int m, int layer, std::uint64_t step, std::size_t count) {
    float* multipliers = at(multipliers_, layer, m);
    fill_dropout_multipliers(member(m).seed, layer, step, count, static_cast<float>(member(m).dropout),
                             dropout_keep_scale(member(m).dropout), random_words_.data(), multipliers);
    return multipliers;
  }

  // Row activations kRowLanes rows at a time: a block of rows transposed so that each vector
  // lane holds one row, the shared math run on the lanes, the result transposed back; the rows
  // left over one at a time. Every row computes exactly as row_activation_forward alone.
  void row_activation_forward_rows(Activation a, const float* z, float* y, int rows, int width) {
    float* lanes_in = row_lanes_in_.data();
    float* lanes_out = row_lanes_out_.data();
    int r = 0;
    for (; r + kRowLanes <= rows; r += kRowLanes) {
      const std::size_t first = static_cast<std::size_t>(r) * width;
      transpose(z + first, kRowLanes, width, lanes_in);
      row_activation_forward_lanes<kRowLanes>(a, lanes_in, lanes_out, width);
      transpose(lanes_out, width, kRowLanes, y + first);
    }
    for (; r < rows; ++r) {
      const std::size_t first = static_cast<std::size_t>(r) * width;
      row_activation_forward(a, z + first, y + first, width);
    }
  }

  // Softmax and Softmin run their backward pass row by row: their dot product of gradient and
  // output, vectorised along the row, rounds every product before adding it (the compiler's
  // in-order vector reduction), where the lanes form would fuse the two into one FMA rounding.
  void row_activation_backward_rows(Activation a, const float* y, float* g, int rows, int width) {
    float* lanes_y = row_lanes_in_.data();
    float* lanes_g = row_lanes_out_.data();
    int r = 0;
    for (; a == Activation::LogSoftmax && r + kRowLanes <= rows; r += kRowLanes) {
      const std::size_t first = static_cast<std::size_t>(r) * width;
      transpose(y + first, kRowLanes, width, lanes_y);
      transpose(g + first, kRowLanes, width, lanes_g);
      row_activation_backward_lanes<kRowLanes>(a, lanes_y, lanes_g, width);
      transpose(lanes_g, width, kRowLanes, g + first);
    }
    for (; r < rows; ++r) {
      const std::size_t first = static_cast<std::size_t>(r) * width;
      row_activation_backward(a, y + first, g + first, width);
    }
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
  // What the backward pass of a training step takes from its forward pass instead of computing
  // it again, per layer like the buffers above: dropout multipliers (when some network uses
  // dropout) and, per element, RReLU's drawn slope or the activation_part of the activations
  // that have one (exp, erf or tanh of z; when some network uses one of them).
  std::vector<AlignedFloats> multipliers_, saved_;
  AlignedFloats loss_terms_;                 // one network's per-row losses, max_rows_
  std::vector<std::uint32_t> random_words_;  // one network's layer block of Philox words
  // kRowLanes rows of the widest layer, feature-major, for the row activations.
  AlignedFloats row_lanes_in_, row_lanes_out_;

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
    multipliers_.push_back(allocate("dropout multipliers", sizes.dropped[l]));
    saved_.push_back(allocate("values kept for the backward pass", sizes.saved[l]));
  }
  loss_terms_ = allocate("per-row losses", sizes.loss_terms);
  allocate_per_network(random_words_, sizes.random_words, std::uint32_t{0});
  row_lanes_in_ = allocate("row activation lanes", sizes.row_lanes);
  row_lanes_out_ = allocate("row activation lanes", sizes.row_lanes);
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

void CpuPack::read_training_state(float* parameters, float* first_state, float* second_state) {
  read_parameters(parameters);
  std::copy(state1_.data(), state1_.data() + state1_.size(), first_state);
  std::copy(state2_.data(), state2_.data() + state2_.size(), second_state);
}

void CpuPack::write_training_state(const float* parameters, const float* first_state, const float* second_state) {
  write_parameters(parameters);
  std::copy(first_state, first_state + state1_.size(), state1_.data());
  std::copy(second_state, second_state + state2_.size(), state2_.data());
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
    gemm(transposed(m, layer), input(layer, m, info.mode), at(z_, layer, m));
  }
}

void CpuPack::bias_activation_dropout(int layer, const StepInfo& info) {
  const ParameterLayout& L = spec_.layout;
  const int width = L.out(layer);
  const std::size_t count = static_cast<std::size_t>(info.rows) * width;
  const bool output_layer = layer == L.layers() - 1;
  const bool training = info.mode == Mode::Training;
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m)) continue;
    const Activation activation = member(m).activation;
    float* z = at(z_, layer, m);
    float* y = at(y_, layer, m);
    add_bias(z, param(m) + L.bias_offset[layer], info.rows, width);
    if (output_layer) {
      vector_loop(count, [&](std::size_t i) { y[i] = sigmoid_f(z[i]); });
      continue;
    }
    if (is_row_activation(activation)) {
      row_activation_forward_rows(activation, z, y, info.rows, width);
    } else if (activation == Activation::RReLU && training) {
      float* slopes = at(saved_, layer, m);
      fill_rrelu_slopes(member(m).seed, layer, info.step, count, random_words_.data(), slopes);
      vector_loop(count, [&](std::size_t i) { y[i] = activate<Activation::RReLU>(z[i], slopes[i]); });
    } else {
      const float slope = negative_slope(m);
      with_elementwise_activation(activation, [&](auto a) {
        constexpr Activation A = decltype(a)::value;
        if constexpr (has_activation_part<A>()) {
          // The expensive part in passes of its own, then the activation from it; the part
          // stays in saved_ for the backward pass. Short loops keep more elements in flight than
          // one long chain of exp/log/tanh, and round the same.
          float* part = at(saved_, layer, m);
          activation_parts<A>(z, count, part, y);
          vector_loop(count, [&](std::size_t i) { y[i] = activate_with_part<A>(z[i], part[i]); });
        } else {
          vector_loop(count, [&](std::size_t i) { y[i] = activate<A>(z[i], slope); });
        }
      });
    }
    if (drops(m, info.mode)) {
      const float* multipliers = draw_dropout_multipliers(m, layer, info.step, count);
      float* out = at(dropped_, layer, m);
      vector_loop(count, [&](std::size_t i) { out[i] = y[i] * multipliers[i]; });
    }
  }
}

void CpuPack::output_loss_gradient(const StepInfo& info) {
  const ParameterLayout& L = spec_.layout;
  const int last = L.layers() - 1;
  const float norm = 1.0f / static_cast<float>(info.rows);
  for (int m = 0; m < models(); ++m) {
    if (!is_active(info, m)) continue;
    const float* p = at(y_, last, m);
    const float* labels = batch_y_;
    float* g = at(g_, last, m);
    float* terms = loss_terms_.data();
    with_loss(member(m).loss, [&](auto l) {
      constexpr Loss loss = decltype(l)::value;
      vector_loop(static_cast<std::size_t>(info.rows), [&](std::size_t r) {
        terms[r] = loss_value(loss, p[r], labels[r]);
        g[r] = output_gradient(loss, p[r], labels[r], norm);
      });
    });
    double total = 0.0;
    for (int r = 0; r < info.rows; ++r) total += terms[r];  // in row order, as every backend sums
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
    sum_rows(g, info.rows, width, grad(m) + L.bias_offset[layer]);
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
    const bool training = info.mode == Mode::Training;
    if (drops(m, info.mode)) {
      const float* multipliers = at(multipliers_, layer, m);  // drawn by this step's forward pass
      vector_loop(count, [&](std::size_t i) { g[i] *= multipliers[i]; });
    }
    if (is_row_activation(activation)) {
      row_activation_backward_rows(activation, y, g, info.rows, width);
    } else if (activation == Activation::RReLU && training) {
      const float* slopes = at(saved_, layer, m);  // drawn by this step's forward pass
      vector_loop(count,
                  [&](std::size_t i) { g[i] *= activation_derivative<Activation::RReLU>(z[i], y[i], slopes[i]); });
    } else {
      if (activation == Activation::PReLU) {
        float slope_gradient = 0.0f;
        for (std::size_t i = 0; i < count; ++i) slope_gradient += prelu_slope_gradient(z[i], g[i]);
        grad(m)[L.prelu_offset] += slope_gradient;
      }
      const float slope = negative_slope(m);
      with_elementwise_activation(activation, [&](auto a) {
        constexpr Activation A = decltype(a)::value;
        if constexpr (has_activation_part<A>()) {
          if (training) {
            const float* part = at(saved_, layer, m);  // from this step's forward pass
            vector_loop(count, [&](std::size_t i) { g[i] *= derivative_with_part<A>(z[i], part[i]); });
            return;
          }
        }
        vector_loop(count, [&](std::size_t i) { g[i] *= activation_derivative<A>(z[i], y[i], slope); });
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
    vector_loop(used, [&](std::size_t i) { g[i] += l1 * (p[i] > 0.0f ? 1.0f : (p[i] < 0.0f ? -1.0f : 0.0f)); });
    loss_[m] += l1 * sum_of_magnitudes(p, used);
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
      vector_loop(count, [&](std::size_t i) { optimizer_update<decltype(o)::value>(p[i], g[i], s1[i], s2[i], s); });
    });
    // After the whole update: transposing each layer right after its own update measured 1.7x
    // slower (its loads waited on the update's last vector stores).
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
  for (std::size_t l = 0; l < sizes.layer.size(); ++l)
    bytes.activations += AlignedFloats::bytes_for(sizes.dropped[l]) + AlignedFloats::bytes_for(sizes.saved[l]);
  bytes.other = AlignedFloats::bytes_for(sizes.loss_terms) + sizes.random_words * sizeof(std::uint32_t) +
                2 * AlignedFloats::bytes_for(sizes.row_lanes) + sizes.models * per_network_counter_bytes();
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
