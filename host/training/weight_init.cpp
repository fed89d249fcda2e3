#include "host/training/weight_init.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/math/activations.hpp"
#include "kernels/math/philox.hpp"

namespace hf {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Uniform draws in [0, 1) for `count` elements of one layer's stream.
std::vector<double> uniform_draws(std::uint64_t seed, RandomStream stream, int layer, std::size_t count) {
  std::vector<double> u(count);
  for (std::size_t i = 0; i < count; i += 4) {
    const Philox4 block =
        random_block(seed, stream, static_cast<std::uint32_t>(layer), 0, static_cast<std::uint32_t>(i / 4));
    for (std::size_t j = 0; j < 4 && i + j < count; ++j) u[i + j] = uniform_float(block.v[j]);
  }
  return u;
}

// Standard normal draws (Box-Muller on pairs of uniforms).
std::vector<double> normal_draws(std::uint64_t seed, int layer, std::size_t count) {
  std::vector<double> z(count);
  for (std::size_t i = 0; i < count; i += 4) {
    const Philox4 block = random_block(seed, RandomStream::WeightInit, static_cast<std::uint32_t>(layer), 0,
                                       static_cast<std::uint32_t>(i / 4));
    for (std::size_t pair = 0; pair < 2; ++pair) {
      const double radius = std::sqrt(-2.0 * std::log(uniform_open_zero(block.v[2 * pair])));
      const double angle = kTwoPi * uniform_float(block.v[2 * pair + 1]);
      if (i + 2 * pair < count) z[i + 2 * pair] = radius * std::cos(angle);
      if (i + 2 * pair + 1 < count) z[i + 2 * pair + 1] = radius * std::sin(angle);
    }
  }
  return z;
}

// torch.nn.init.orthogonal_: the Q of a QR factorisation of a normal matrix (transposed when
// wide), with column signs fixed so diag(R) is positive. Gram-Schmidt yields exactly that Q;
// orthogonalising twice keeps it accurate in floating point.
std::vector<double> orthogonal(std::uint64_t seed, int layer, int rows, int cols) {
  const std::vector<double> z = normal_draws(seed, layer, static_cast<std::size_t>(rows) * cols);
  const bool wide = rows < cols;
  const int m = wide ? cols : rows;  // tall: m >= n
  const int n = wide ? rows : cols;
  // Column j of the tall matrix, stored contiguously.
  std::vector<std::vector<double>> q(n, std::vector<double>(m));
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const double v = z[static_cast<std::size_t>(r) * cols + c];
      if (wide)
        q[r][c] = v;
      else
        q[c][r] = v;
    }
  for (int j = 0; j < n; ++j) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int k = 0; k < j; ++k) {
        double dot = 0.0;
        for (int i = 0; i < m; ++i) dot += q[k][i] * q[j][i];
        for (int i = 0; i < m; ++i) q[j][i] -= dot * q[k][i];
      }
    }
    double norm = 0.0;
    for (int i = 0; i < m; ++i) norm += q[j][i] * q[j][i];
    norm = std::sqrt(norm);
    for (int i = 0; i < m; ++i) q[j][i] = norm > 0.0 ? q[j][i] / norm : 0.0;
  }
  std::vector<double> out(static_cast<std::size_t>(rows) * cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) out[static_cast<std::size_t>(r) * cols + c] = wide ? q[r][c] : q[c][r];
  return out;
}

std::vector<double> weight_values(WeightInit init, std::uint64_t seed, int layer, int fan_in, int fan_out) {
  const std::size_t count = static_cast<std::size_t>(fan_in) * fan_out;
  const double xavier_std = std::sqrt(2.0 / (fan_in + fan_out));
  const double kaiming_std = std::sqrt(2.0) / std::sqrt(static_cast<double>(fan_in));  // leaky_relu gain, a = 0
  std::vector<double> w;
  switch (init) {
    case WeightInit::XavierUniform:
    case WeightInit::KaimingUniform:
    case WeightInit::Uniform: {
      const double bound = init == WeightInit::XavierUniform    ? std::sqrt(3.0) * xavier_std
                           : init == WeightInit::KaimingUniform ? std::sqrt(3.0) * kaiming_std
                                                                : 0.0;
      const double low = init == WeightInit::Uniform ? 0.0 : -bound;
      const double high = init == WeightInit::Uniform ? 1.0 : bound;
      w = uniform_draws(seed, RandomStream::WeightInit, layer, count);
      for (double& x : w) x = low + (high - low) * x;
      return w;
    }
    case WeightInit::XavierNormal:
    case WeightInit::KaimingNormal:
    case WeightInit::Normal: {
      const double std_dev = init == WeightInit::XavierNormal    ? xavier_std
                             : init == WeightInit::KaimingNormal ? kaiming_std
                                                                 : 1.0;
      w = normal_draws(seed, layer, count);
      for (double& x : w) x *= std_dev;
      return w;
    }
    case WeightInit::Orthogonal: return orthogonal(seed, layer, fan_out, fan_in);
  }
  return w;
}

}  // namespace

std::size_t initialization_scratch_bytes(const ParameterLayout& layout, WeightInit init) {
  std::size_t most = 0;
  for (int l = 0; l < layout.layers(); ++l) {
    const std::size_t weights = layout.weight_count(l);
    const std::size_t biases = static_cast<std::size_t>(layout.out(l));
    // orthogonal(): the normal draws, the tall matrix's columns (one vector each) and the result.
    const std::size_t columns = static_cast<std::size_t>(std::min(layout.in(l), layout.out(l)));
    const std::size_t layer = init == WeightInit::Orthogonal
                                  ? 3 * weights * sizeof(double) + columns * sizeof(std::vector<double>)
                                  : weights * sizeof(double);
    most = std::max(most, layer + biases * sizeof(double));
  }
  return most;
}

void initialize_parameters(const ParameterLayout& layout, WeightInit init, bool has_prelu, std::uint64_t seed,
                           float* parameters) {
  std::fill(parameters, parameters + layout.size, 0.0f);
  for (int l = 0; l < layout.layers(); ++l) {
    const std::vector<double> w = weight_values(init, seed, l, layout.in(l), layout.out(l));
    for (std::size_t i = 0; i < w.size(); ++i) parameters[layout.weight_offset[l] + i] = static_cast<float>(w[i]);
    const double bound = 1.0 / std::sqrt(static_cast<double>(layout.in(l)));
    const std::vector<double> u =
        uniform_draws(seed, RandomStream::BiasInit, l, static_cast<std::size_t>(layout.out(l)));
    for (int j = 0; j < layout.out(l); ++j)
      parameters[layout.bias_offset[l] + j] = static_cast<float>(-bound + 2.0 * bound * u[j]);
  }
  if (has_prelu) parameters[layout.prelu_offset] = kPreluInitialSlope;
}

}  // namespace hf
