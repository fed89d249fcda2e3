#include "kernels/cpu/cpu_backend.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>

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

struct CpuWorkspace final : PackWorkspace {
  CpuWorkspace(const PackSpec& pack, int rows) : spec(pack), max_rows(rows) {}

  PackSpec spec;
  int max_rows = 0;
  std::size_t parameters = 0;  // per network, padded
  std::size_t transposed_size = 0;
  std::vector<std::size_t> transposed_offset;

  AlignedFloats params, grads, state1, state2, transposed;
  // Per layer, models x max_rows x out(l): pre-activation, activation output, dropout output
  // (only when some network uses dropout) and the gradient at the output / pre-activation.
  std::vector<AlignedFloats> z, y, dropped, g;
  AlignedFloats scratch;  // one network's layer block of random multipliers

  const float* batch_x = nullptr;
  const float* batch_y = nullptr;
  std::vector<double> loss;
  std::vector<NetworkHealth> health;
  std::vector<ConfusionCounts> confusion;
  std::vector<std::pair<int, std::vector<LayerGemms>>> gemms_by_rows;

  int models() const { return spec.models(); }
  const PackMember& member(int m) const { return spec.members[m]; }
  std::size_t block(int layer) const { return static_cast<std::size_t>(max_rows) * spec.layout.out(layer); }
  float* at(std::vector<AlignedFloats>& buffers, int layer, int m) { return buffers[layer].data() + m * block(layer); }
  float* param(int m) { return params.data() + m * parameters; }
  float* grad(int m) { return grads.data() + m * parameters; }
  bool drops(int m, Mode mode) const { return mode == Mode::Training && member(m).dropout > 0.0; }

  // What layer `layer` reads for network m: the batch, or the previous layer's output after
  // dropout (when dropout applied) or after the activation.
  const float* input(int layer, int m, Mode mode) {
    if (layer == 0) return batch_x;
    return drops(m, mode) ? at(dropped, layer - 1, m) : at(y, layer - 1, m);
  }

  float* layer_buffer(LayerBuffer buffer, int layer, int m) {
    switch (buffer) {
      case LayerBuffer::PreActivation: return at(z, layer, m);
      case LayerBuffer::Activation: return at(y, layer, m);
      case LayerBuffer::Output:  // the output layer has no dropout
        return member(m).dropout > 0.0 && layer + 1 < spec.layout.layers() ? at(dropped, layer, m) : at(y, layer, m);
      case LayerBuffer::Gradient: return at(g, layer, m);
    }
    return nullptr;
  }

  const std::vector<LayerGemms>& gemms(int rows) {
    for (const auto& entry : gemms_by_rows)
      if (entry.first == rows) return entry.second;
    std::vector<LayerGemms> kernels;
    const ParameterLayout& L = spec.layout;
    for (int l = 0; l < L.layers(); ++l) {
      const int in = L.in(l), out = L.out(l);
      kernels.push_back({SmallGemm(out, rows, in, out, in, out, false), SmallGemm(in, out, rows, in, out, in, true),
                         SmallGemm(in, rows, out, in, out, in, false)});
    }
    gemms_by_rows.emplace_back(rows, std::move(kernels));
    return gemms_by_rows.back().second;
  }

  void refresh_transposed(int m) {
    const ParameterLayout& L = spec.layout;
    for (int l = 0; l < L.layers(); ++l) {
      const float* w = param(m) + L.weight_offset[l];
      float* wt = transposed.data() + m * transposed_size + transposed_offset[l];
      transpose(w, L.out(l), L.in(l), wt);
    }
  }
};

CpuWorkspace& cpu(PackWorkspace& ws) { return static_cast<CpuWorkspace&>(ws); }

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

float keep_scale(double p) { return 1.0f / static_cast<float>(1.0 - p); }

// Network m's dropout multipliers for one layer at one step, in the workspace's scratch; the
// backward pass draws them again rather than storing them.
const float* dropout_multipliers(CpuWorkspace& ws, int m, int layer, std::uint64_t step, std::size_t count) {
  const PackMember& member = ws.member(m);
  fill_dropout_multipliers(member.seed, layer, step, count, static_cast<float>(member.dropout),
                           keep_scale(member.dropout), ws.scratch.data());
  return ws.scratch.data();
}

// Network m's RReLU training slopes for one layer at one step, in the workspace's scratch.
const float* rrelu_slopes(CpuWorkspace& ws, int m, int layer, std::uint64_t step, std::size_t count) {
  fill_rrelu_slopes(ws.member(m).seed, layer, step, count, ws.scratch.data());
  return ws.scratch.data();
}

// The negative-side slope of element-wise activations that take one: PReLU's learned slope,
// RReLU's evaluation slope; ignored by the others.
float negative_slope(CpuWorkspace& ws, int m) {
  return ws.member(m).activation == Activation::PReLU ? ws.param(m)[ws.spec.layout.prelu_offset] : kRreluEvalSlope;
}

}  // namespace

std::unique_ptr<PackWorkspace> CpuBackend::create_workspace(const PackSpec& spec, int max_rows) {
  auto ws = std::make_unique<CpuWorkspace>(spec, max_rows);
  const ParameterLayout& L = spec.layout;
  const std::size_t models = static_cast<std::size_t>(spec.models());
  ws->parameters = L.size;
  for (int l = 0; l < L.layers(); ++l) {
    ws->transposed_offset.push_back(ws->transposed_size);
    ws->transposed_size += (L.weight_count(l) + 15) / 16 * 16;
  }
  ws->params = AlignedFloats(models * L.size);
  ws->grads = AlignedFloats(models * L.size);
  ws->state1 = AlignedFloats(models * L.size);
  ws->state2 = AlignedFloats(models * L.size);
  ws->transposed = AlignedFloats(models * ws->transposed_size);
  bool any_dropout = false;
  for (const PackMember& m : spec.members) any_dropout = any_dropout || m.dropout > 0.0;
  std::size_t widest = 0;
  for (int l = 0; l < L.layers(); ++l) {
    const std::size_t block = ws->block(l);
    widest = std::max(widest, block);
    ws->z.emplace_back(models * block);
    ws->y.emplace_back(models * block);
    ws->g.emplace_back(models * block);
    ws->dropped.emplace_back(any_dropout ? models * block : 0);
  }
  ws->scratch = AlignedFloats(widest);
  ws->loss.assign(models, 0.0);
  ws->health.assign(models, NetworkHealth{});
  ws->confusion.assign(models, ConfusionCounts{});
  return ws;
}

void CpuBackend::write_parameters(PackWorkspace& w, const float* parameters) {
  CpuWorkspace& ws = cpu(w);
  std::copy(parameters, parameters + ws.params.size(), ws.params.data());
  ws.grads.zero();
  ws.state1.zero();
  ws.state2.zero();
  for (int m = 0; m < ws.models(); ++m) ws.refresh_transposed(m);
}

void CpuBackend::read_parameters(PackWorkspace& w, float* parameters) {
  CpuWorkspace& ws = cpu(w);
  std::copy(ws.params.data(), ws.params.data() + ws.params.size(), parameters);
}

void CpuBackend::read_gradients(PackWorkspace& w, float* gradients) {
  CpuWorkspace& ws = cpu(w);
  std::copy(ws.grads.data(), ws.grads.data() + ws.grads.size(), gradients);
}

void CpuBackend::write_gradients(PackWorkspace& w, const float* gradients) {
  CpuWorkspace& ws = cpu(w);
  std::copy(gradients, gradients + ws.grads.size(), ws.grads.data());
}

std::vector<float> CpuBackend::read_losses(PackWorkspace& w) {
  CpuWorkspace& ws = cpu(w);
  return std::vector<float>(ws.loss.begin(), ws.loss.end());
}

std::vector<NetworkHealth> CpuBackend::read_health(PackWorkspace& w) { return cpu(w).health; }

std::vector<ConfusionCounts> CpuBackend::read_confusion(PackWorkspace& w) { return cpu(w).confusion; }

void CpuBackend::read_layer(PackWorkspace& w, int layer, LayerBuffer buffer, int rows, float* values) {
  CpuWorkspace& ws = cpu(w);
  const std::size_t count = static_cast<std::size_t>(rows) * ws.spec.layout.out(layer);
  for (int m = 0; m < ws.models(); ++m) {
    const float* source = ws.layer_buffer(buffer, layer, m);
    std::copy(source, source + count, values + m * count);
  }
}

void CpuBackend::write_layer(PackWorkspace& w, int layer, LayerBuffer buffer, int rows, const float* values) {
  CpuWorkspace& ws = cpu(w);
  const std::size_t count = static_cast<std::size_t>(rows) * ws.spec.layout.out(layer);
  for (int m = 0; m < ws.models(); ++m)
    std::copy(values + m * count, values + (m + 1) * count, ws.layer_buffer(buffer, layer, m));
}

void CpuBackend::poison(PackWorkspace& w) {
  CpuWorkspace& ws = cpu(w);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (auto* buffers : {&ws.z, &ws.y, &ws.dropped, &ws.g})
    for (AlignedFloats& b : *buffers) std::fill(b.data(), b.data() + b.size(), nan);
  std::fill(ws.grads.data(), ws.grads.data() + ws.grads.size(), nan);
}

void CpuBackend::load_batch(PackWorkspace& w, const float* features, const float* labels, int rows) {
  CpuWorkspace& ws = cpu(w);
  if (rows > ws.max_rows) throw std::logic_error("load_batch: more rows than the workspace holds");
  ws.batch_x = features;
  ws.batch_y = labels;
}

void CpuBackend::linear_forward(PackWorkspace& w, int layer, const StepInfo& info) {
  CpuWorkspace& ws = cpu(w);
  const SmallGemm& gemm = ws.gemms(info.rows)[layer].forward;
  for (int m = 0; m < ws.models(); ++m) {
    if (!is_active(info, m)) continue;
    const float* wt = ws.transposed.data() + m * ws.transposed_size + ws.transposed_offset[layer];
    gemm(wt, ws.input(layer, m, info.mode), ws.at(ws.z, layer, m));
  }
}

void CpuBackend::bias_activation_dropout(PackWorkspace& w, int layer, const StepInfo& info) {
  CpuWorkspace& ws = cpu(w);
  const ParameterLayout& L = ws.spec.layout;
  const int width = L.out(layer);
  const std::size_t count = static_cast<std::size_t>(info.rows) * width;
  const bool output_layer = layer == L.layers() - 1;
  for (int m = 0; m < ws.models(); ++m) {
    if (!is_active(info, m)) continue;
    const PackMember& member = ws.member(m);
    float* z = ws.at(ws.z, layer, m);
    float* y = ws.at(ws.y, layer, m);
    const float* bias = ws.param(m) + L.bias_offset[layer];
    for (int r = 0; r < info.rows; ++r) {
      float* row = z + static_cast<std::size_t>(r) * width;
      for (int c = 0; c < width; ++c) row[c] += bias[c];
    }
    if (output_layer) {
      for (std::size_t i = 0; i < count; ++i) y[i] = sigmoid_f(z[i]);
      continue;
    }
    if (is_row_activation(member.activation)) {
      for (int r = 0; r < info.rows; ++r) {
        row_activation_forward(member.activation, z + static_cast<std::size_t>(r) * width,
                               y + static_cast<std::size_t>(r) * width, width);
      }
    } else if (member.activation == Activation::RReLU && info.mode == Mode::Training) {
      const float* slopes = rrelu_slopes(ws, m, layer, info.step, count);
      for (std::size_t i = 0; i < count; ++i) y[i] = activate<Activation::RReLU>(z[i], slopes[i]);
    } else {
      const float slope = negative_slope(ws, m);
      with_elementwise_activation(member.activation, [&](auto a) {
        for (std::size_t i = 0; i < count; ++i) y[i] = activate<decltype(a)::value>(z[i], slope);
      });
    }
    if (ws.drops(m, info.mode)) {
      const float* multipliers = dropout_multipliers(ws, m, layer, info.step, count);
      float* out = ws.at(ws.dropped, layer, m);
      for (std::size_t i = 0; i < count; ++i) out[i] = y[i] * multipliers[i];
    }
  }
}

void CpuBackend::output_loss_gradient(PackWorkspace& w, const StepInfo& info) {
  CpuWorkspace& ws = cpu(w);
  const ParameterLayout& L = ws.spec.layout;
  const int last = L.layers() - 1;
  const float norm = 1.0f / static_cast<float>(info.rows);
  for (int m = 0; m < ws.models(); ++m) {
    if (!is_active(info, m)) continue;
    const Loss loss = ws.member(m).loss;
    const float* p = ws.at(ws.y, last, m);
    float* g = ws.at(ws.g, last, m);
    double total = 0.0;
    for (int r = 0; r < info.rows; ++r) {
      total += loss_value(loss, p[r], ws.batch_y[r]);
      g[r] = output_gradient(loss, p[r], ws.batch_y[r], norm);
    }
    ws.loss[m] = total / info.rows;
    ws.grad(m)[L.prelu_offset] = 0.0f;
  }
}

void CpuBackend::linear_backward(PackWorkspace& w, int layer, const StepInfo& info) {
  CpuWorkspace& ws = cpu(w);
  const ParameterLayout& L = ws.spec.layout;
  const LayerGemms& gemms = ws.gemms(info.rows)[layer];
  const int width = L.out(layer);
  for (int m = 0; m < ws.models(); ++m) {
    if (!is_active(info, m)) continue;
    const float* g = ws.at(ws.g, layer, m);
    gemms.weight_gradient(ws.input(layer, m, info.mode), g, ws.grad(m) + L.weight_offset[layer]);
    float* bias_grad = ws.grad(m) + L.bias_offset[layer];
    for (int c = 0; c < width; ++c) bias_grad[c] = 0.0f;
    for (int r = 0; r < info.rows; ++r) {
      const float* row = g + static_cast<std::size_t>(r) * width;
      for (int c = 0; c < width; ++c) bias_grad[c] += row[c];
    }
    if (layer > 0) {
      // The gradient at the previous layer's (dropout) output.
      gemms.input_gradient(ws.param(m) + L.weight_offset[layer], g, ws.at(ws.g, layer - 1, m));
    }
  }
}

void CpuBackend::activation_backward(PackWorkspace& w, int layer, const StepInfo& info) {
  CpuWorkspace& ws = cpu(w);
  const ParameterLayout& L = ws.spec.layout;
  const int width = L.out(layer);
  const std::size_t count = static_cast<std::size_t>(info.rows) * width;
  for (int m = 0; m < ws.models(); ++m) {
    if (!is_active(info, m)) continue;
    const PackMember& member = ws.member(m);
    const float* z = ws.at(ws.z, layer, m);
    const float* y = ws.at(ws.y, layer, m);
    float* g = ws.at(ws.g, layer, m);
    if (ws.drops(m, info.mode)) {
      const float* multipliers = dropout_multipliers(ws, m, layer, info.step, count);
      for (std::size_t i = 0; i < count; ++i) g[i] *= multipliers[i];
    }
    if (is_row_activation(member.activation)) {
      for (int r = 0; r < info.rows; ++r) {
        row_activation_backward(member.activation, y + static_cast<std::size_t>(r) * width,
                                g + static_cast<std::size_t>(r) * width, width);
      }
    } else if (member.activation == Activation::RReLU && info.mode == Mode::Training) {
      const float* slopes = rrelu_slopes(ws, m, layer, info.step, count);
      for (std::size_t i = 0; i < count; ++i) g[i] *= activation_derivative<Activation::RReLU>(z[i], y[i], slopes[i]);
    } else {
      if (member.activation == Activation::PReLU) {
        float slope_gradient = 0.0f;
        for (std::size_t i = 0; i < count; ++i) slope_gradient += prelu_slope_gradient(z[i], g[i]);
        ws.grad(m)[L.prelu_offset] += slope_gradient;
      }
      const float slope = negative_slope(ws, m);
      with_elementwise_activation(member.activation, [&](auto a) {
        for (std::size_t i = 0; i < count; ++i) g[i] *= activation_derivative<decltype(a)::value>(z[i], y[i], slope);
      });
    }
  }
}

void CpuBackend::l1_penalty(PackWorkspace& w, const StepInfo& info) {
  CpuWorkspace& ws = cpu(w);
  const std::size_t used = ws.spec.layout.used;
  for (int m = 0; m < ws.models(); ++m) {
    if (!is_active(info, m) || ws.member(m).l1 <= 0.0) continue;
    const float l1 = static_cast<float>(ws.member(m).l1);
    const float* p = ws.param(m);
    float* g = ws.grad(m);
    double magnitude = 0.0;
    for (std::size_t i = 0; i < used; ++i) {
      magnitude += std::fabs(p[i]);
      g[i] += l1 * (p[i] > 0.0f ? 1.0f : (p[i] < 0.0f ? -1.0f : 0.0f));
    }
    ws.loss[m] += l1 * magnitude;
  }
}

void CpuBackend::check_loss(PackWorkspace& w, const StepInfo& info) {
  CpuWorkspace& ws = cpu(w);
  for (int m = 0; m < ws.models(); ++m) {
    if (is_active(info, m) && !std::isfinite(ws.loss[m]) && ws.health[m].first_nonfinite_loss_step < 0) {
      ws.health[m].first_nonfinite_loss_step = static_cast<std::int64_t>(info.step);
    }
  }
}

void CpuBackend::optimizer_step(PackWorkspace& w, const StepInfo& info, const std::vector<OptimizerStep>& scalars) {
  CpuWorkspace& ws = cpu(w);
  const std::size_t count = ws.parameters;
  for (int m = 0; m < ws.models(); ++m) {
    if (!is_active(info, m)) continue;
    float* p = ws.param(m);
    const float* g = ws.grad(m);
    float* s1 = ws.state1.data() + m * count;
    float* s2 = ws.state2.data() + m * count;
    const OptimizerStep s = scalars[m];
    with_optimizer(ws.member(m).optimizer, [&](auto o) {
      for (std::size_t i = 0; i < count; ++i) optimizer_update<decltype(o)::value>(p[i], g[i], s1[i], s2[i], s);
    });
    ws.refresh_transposed(m);
  }
}

void CpuBackend::check_parameters(PackWorkspace& w) {
  CpuWorkspace& ws = cpu(w);
  for (int m = 0; m < ws.models(); ++m) {
    const float* p = ws.param(m);
    bool finite = true;
    for (std::size_t i = 0; i < ws.parameters; ++i) finite = finite && std::isfinite(p[i]);
    if (!finite) ws.health[m].nonfinite_parameters = true;
  }
}

void CpuBackend::reset_confusion(PackWorkspace& w) {
  CpuWorkspace& ws = cpu(w);
  ws.confusion.assign(ws.models(), ConfusionCounts{});
}

void CpuBackend::count_confusion(PackWorkspace& w, const StepInfo& info, float threshold) {
  CpuWorkspace& ws = cpu(w);
  const int last = ws.spec.layout.layers() - 1;
  for (int m = 0; m < ws.models(); ++m) {
    if (!is_active(info, m)) continue;
    const float* p = ws.at(ws.y, last, m);
    ConfusionCounts& c = ws.confusion[m];
    for (int r = 0; r < info.rows; ++r) {
      const bool predicted = p[r] > threshold;
      const bool actual = ws.batch_y[r] > 0.5f;
      c.tp += predicted && actual;
      c.fp += predicted && !actual;
      c.fn += !predicted && actual;
      c.tn += !predicted && !actual;
    }
  }
}

}  // namespace hf
