// Every primitive of every backend against the test's own evaluation of the same step, in the
// spirit of ggml's test-backend-ops: random inputs, odd sizes beside powers of two, a pack mixing
// networks with different codes, and every buffer poisoned with NaN first so an element a
// primitive should write but does not shows up. The sums (GEMMs, weight and bias gradients, loss
// means, PReLU slope gradients) are evaluated here in double; the per-element math (activations
// and their derivatives, row activations, losses and their gradients, dropout and RReLU draws,
// optimizer updates, the optimizers' step scalars) is the shared math of kernels/math itself.
// So what this suite checks is each backend's indexing, buffers, dispatch on per-network codes
// and random streams, not the math: the activations, losses, gradients and optimizer steps are
// held to PyTorch by tests/pytorch_semantics_test.cpp (fixtures from
// tests/fixtures/generate_pytorch_fixtures.py), the generator behind the draws to Random123's
// known answers by tests/philox_test.cpp. The suite is written once and
// instantiated for each backend this build has (the CUDA backend joins the list when it exists).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "host/common/random.hpp"
#include "kernels/math/activations.hpp"
#include "kernels/math/dropout.hpp"
#include "kernels/math/losses.hpp"
#include "kernels/math/optimizers.hpp"
#include "kernels/math/row_activations.hpp"
#include "tests/backend_cases.hpp"
#include "tests/gpu_available.hpp"

namespace hf {
namespace {

using testing::BackendCase;
using testing::backends;

// Float32 primitives against double math: a few ulps per operation, sums over <= 64 terms.
constexpr double kAbsolute = 1e-5, kRelative = 1e-4;

::testing::AssertionResult close_to(const std::vector<float>& actual, const std::vector<double>& expected,
                                    const char* what) {
  if (actual.size() != expected.size()) return ::testing::AssertionFailure() << what << ": size mismatch";
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(actual[i]))
      return ::testing::AssertionFailure() << what << ": element " << i << " was not written (NaN)";
    if (!(std::fabs(actual[i] - expected[i]) <= kAbsolute + kRelative * std::fabs(expected[i]))) {
      return ::testing::AssertionFailure()
             << what << ": element " << i << " is " << actual[i] << ", expected " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

std::vector<float> random_values(SplitMix64& random, std::size_t n, double scale) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(scale * (static_cast<double>(random.below(1u << 24)) / (1u << 23) - 1.0));
  return v;
}

// A pack of three networks with different codes, over layers of odd widths.
PackSpec mixed_pack(std::vector<int> widths, Activation a, double dropout) {
  PackSpec spec{ParameterLayout(std::move(widths)), 0, {}};
  for (int m = 0; m < 3; ++m) {
    PackMember member;
    member.activation = m == 1 ? Activation::Tanh : a;  // a network with other codes in between
    member.dropout = m == 2 ? 0.0 : dropout;
    member.loss = static_cast<Loss>(m % kLossCount);
    member.optimizer = static_cast<Optimizer>(m);
    member.l1 = m == 0 ? 0.01 : 0.0;
    member.seed = 1000 + static_cast<std::uint64_t>(m);
    spec.members.push_back(member);
  }
  return spec;
}

class BackendOps : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    if (GetParam().needs_gpu)
      HF_SKIP_UNLESS_GPU_VISIBLE("no CUDA device visible: the " << GetParam().name << " backend's op tests need a GPU");
  }

  // The workspace holds more rows than the batch (as the trainer's does: its evaluation batch is
  // larger), so a primitive that strides per-network buffers by `rows` instead of the
  // workspace's max_rows reads or writes another network's rows and fails here.
  static constexpr int kSpareRows = 3;

  void start(const PackSpec& spec, int rows) {
    spec_ = spec;
    rows_ = rows;
    backend_ = GetParam().make();
    ws_ = backend_->create_workspace(spec_, rows + kSpareRows);
    params_ = random_values(random_, static_cast<std::size_t>(spec_.models()) * spec_.layout.size, 0.5);
    for (int m = 0; m < spec_.models(); ++m) {  // padding stays zero, as the trainer keeps it
      for (std::size_t i = spec_.layout.used; i < spec_.layout.size; ++i) params_[m * spec_.layout.size + i] = 0.0f;
      params_[m * spec_.layout.size + spec_.layout.prelu_offset] = 0.3f;
    }
    ws_->write_parameters(params_.data());
    x_ = random_values(random_, static_cast<std::size_t>(rows) * spec_.layout.in(0), 2.0);
    y_.resize(rows);
    for (float& v : y_) v = static_cast<float>(random_.below(2));
    ws_->load_batch(x_.data(), y_.data(), rows);
    ws_->poison();
  }

  std::size_t block(int layer) const { return static_cast<std::size_t>(rows_) * spec_.layout.out(layer); }
  std::vector<float> read(int layer, LayerBuffer b) {
    std::vector<float> v(spec_.models() * block(layer));
    ws_->read_layer(layer, b, rows_, v.data());
    return v;
  }
  void write(int layer, LayerBuffer b, const std::vector<float>& v) { ws_->write_layer(layer, b, rows_, v.data()); }
  const float* param(int m) const { return params_.data() + m * spec_.layout.size; }
  StepInfo info(Mode mode) const { return StepInfo{7, rows_, mode, nullptr}; }

  SplitMix64 random_{2024};
  PackSpec spec_{ParameterLayout({1, 1}), 0, {}};
  int rows_ = 0;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<PackWorkspace> ws_;
  std::vector<float> params_, x_, y_;
};

const int kRowCounts[] = {1, 5, 13, 32};
// Odd widths, and the widths of the seed's network (90 wide) with 64 and 90 rows.
const std::vector<int> kForwardLayouts[] = {{11, 7, 13, 5, 1}, {30, 90, 64, 11, 1}};
const int kWideRowCounts[] = {7, 64, 90};

TEST_P(BackendOps, LinearForwardEveryLayer) {
  for (const std::vector<int>& widths : kForwardLayouts) {
    for (int rows : widths[0] == 11 ? std::vector<int>(std::begin(kRowCounts), std::end(kRowCounts))
                                    : std::vector<int>(std::begin(kWideRowCounts), std::end(kWideRowCounts))) {
      start(mixed_pack(widths, Activation::ReLU, 0.0), rows);
      for (int l = 0; l < spec_.layout.layers(); ++l) {
        const int in = spec_.layout.in(l), out = spec_.layout.out(l);
        std::vector<float> input = l == 0 ? x_ : random_values(random_, spec_.models() * block(l - 1), 1.0);
        if (l > 0) write(l - 1, LayerBuffer::Activation, input);
        ws_->linear_forward(l, info(Mode::Evaluation));
        std::vector<double> expected(spec_.models() * block(l));
        for (int m = 0; m < spec_.models(); ++m) {
          const float* w = param(m) + spec_.layout.weight_offset[l];
          const float* xin = l == 0 ? x_.data() : input.data() + m * block(l - 1);
          for (int r = 0; r < rows; ++r)
            for (int o = 0; o < out; ++o) {
              double sum = 0.0;
              for (int i = 0; i < in; ++i) sum += static_cast<double>(xin[r * in + i]) * w[o * in + i];
              expected[m * block(l) + r * out + o] = sum;
            }
        }
        EXPECT_TRUE(close_to(read(l, LayerBuffer::PreActivation), expected, "Z")) << "layer " << l << " rows " << rows;
      }
    }
  }
}

// Expected activation output of one hidden layer for network m, from Z already holding the bias.
std::vector<double> expected_activation(Activation a, const std::vector<float>& z, int rows, int width,
                                        float prelu_slope, std::uint64_t seed, int layer, std::uint64_t step,
                                        Mode mode) {
  std::vector<double> y(z.size());
  if (is_row_activation(a)) {
    for (int r = 0; r < rows; ++r) {
      std::vector<float> out(width);
      row_activation_forward(a, z.data() + r * width, out.data(), width);
      for (int c = 0; c < width; ++c) y[r * width + c] = out[c];
    }
    return y;
  }
  for (std::size_t e = 0; e < z.size(); ++e) {
    float slope = a == Activation::PReLU ? prelu_slope : kRreluEvalSlope;
    if (a == Activation::RReLU && mode == Mode::Training)
      slope = rrelu_training_slope(seed, layer, step, static_cast<std::uint32_t>(e));
    // activate<> is the shared math itself; what is under test is the backend's indexing,
    // dispatch on per-network codes and random streams.
    with_elementwise_activation(a, [&](auto tag) { y[e] = activate<decltype(tag)::value>(z[e], slope); });
  }
  return y;
}

double expected_derivative(Activation a, float z, float y, float slope) {
  double d = 0.0;
  with_elementwise_activation(a, [&](auto tag) { d = activation_derivative<decltype(tag)::value>(z, y, slope); });
  return d;
}

struct ActivationCase {
  Activation activation;
  Mode mode;
  double dropout;
};

TEST_P(BackendOps, BiasActivationDropoutEveryActivation) {
  for (int a = 0; a < kActivationCount; ++a) {
    for (const ActivationCase c : {ActivationCase{static_cast<Activation>(a), Mode::Training, 0.0},
                                   ActivationCase{static_cast<Activation>(a), Mode::Training, 0.3},
                                   ActivationCase{static_cast<Activation>(a), Mode::Evaluation, 0.3}}) {
      const int rows = 13, layer = 0;
      start(mixed_pack({5, 11, 1}, c.activation, c.dropout), rows);
      const int width = spec_.layout.out(layer);
      const std::vector<float> z = random_values(random_, spec_.models() * block(layer), 4.0);
      write(layer, LayerBuffer::PreActivation, z);
      ws_->bias_activation_dropout(layer, info(c.mode));
      const std::vector<float> z_after = read(layer, LayerBuffer::PreActivation);
      const std::vector<float> y = read(layer, LayerBuffer::Activation);
      const std::vector<float> out = read(layer, LayerBuffer::Output);
      for (int m = 0; m < spec_.models(); ++m) {
        const PackMember& member = spec_.members[m];
        std::vector<float> biased(block(layer));
        std::vector<double> expected_z(block(layer));
        for (int r = 0; r < rows; ++r)
          for (int k = 0; k < width; ++k) {
            biased[r * width + k] = z[m * block(layer) + r * width + k] + param(m)[spec_.layout.bias_offset[layer] + k];
            expected_z[r * width + k] = biased[r * width + k];
          }
        const std::vector<double> expected_y =
            expected_activation(member.activation, biased, rows, width, 0.3f, member.seed, layer, 7, c.mode);
        std::vector<double> expected_out = expected_y;
        if (c.mode == Mode::Training && member.dropout > 0) {
          const float keep = 1.0f / static_cast<float>(1.0 - member.dropout);
          for (std::size_t e = 0; e < expected_out.size(); ++e)
            expected_out[e] *= dropout_multiplier(member.seed, layer, 7, static_cast<std::uint32_t>(e),
                                                  static_cast<float>(member.dropout), keep);
        }
        const auto slice = [&](const std::vector<float>& v) {
          return std::vector<float>(v.begin() + m * block(layer), v.begin() + (m + 1) * block(layer));
        };
        const std::string what = std::string(kActivationNames[a]) + " network " + std::to_string(m) +
                                 (c.mode == Mode::Training ? " training" : " eval") + " dropout " +
                                 std::to_string(member.dropout);
        EXPECT_TRUE(close_to(slice(z_after), expected_z, "Z + b")) << what;
        EXPECT_TRUE(close_to(slice(y), expected_y, "activation")) << what;
        if (c.mode == Mode::Training) {
          EXPECT_TRUE(close_to(slice(out), expected_out, "dropout output")) << what;
        }
      }
    }
  }
}

TEST_P(BackendOps, DropoutKeepsAboutOneMinusPAndScales) {
  start(mixed_pack({5, 64, 1}, Activation::Sigmoid, 0.25), 32);
  write(0, LayerBuffer::PreActivation, std::vector<float>(spec_.models() * block(0), 0.0f));
  ws_->bias_activation_dropout(0, info(Mode::Training));
  const std::vector<float> y = read(0, LayerBuffer::Activation), out = read(0, LayerBuffer::Output);
  int kept = 0;
  for (std::size_t e = 0; e < block(0); ++e) {  // network 0 has dropout 0.25
    if (out[e] != 0.0f) {
      ++kept;
      EXPECT_FLOAT_EQ(out[e], y[e] / 0.75f);
    }
  }
  const double fraction = static_cast<double>(kept) / static_cast<double>(block(0));
  EXPECT_NEAR(fraction, 0.75, 0.04);  // 2048 draws: 4 sigma is about 0.04
}

TEST_P(BackendOps, OutputLayerSigmoidLossAndGradientEveryLoss) {
  for (int loss = 0; loss < kLossCount; ++loss) {
    for (int rows : kRowCounts) {
      PackSpec spec = mixed_pack({7, 5, 1}, Activation::ReLU, 0.0);
      for (int m = 0; m < spec.models(); ++m) spec.members[m].loss = static_cast<Loss>((loss + m) % kLossCount);
      start(spec, rows);
      const int last = spec_.layout.layers() - 1;
      const std::vector<float> z = random_values(random_, spec_.models() * block(last), 5.0);
      write(last, LayerBuffer::PreActivation, z);
      ws_->bias_activation_dropout(last, info(Mode::Training));
      ws_->output_loss_gradient(info(Mode::Training));
      const std::vector<float> p = read(last, LayerBuffer::Activation), g = read(last, LayerBuffer::Gradient);
      const std::vector<float> losses = ws_->read_losses();
      for (int m = 0; m < spec_.models(); ++m) {
        const Loss l = spec_.members[m].loss;
        std::vector<double> expected_p(rows), expected_g(rows);
        double expected_loss = 0.0;
        for (int r = 0; r < rows; ++r) {
          const double logit = static_cast<double>(z[m * rows + r]) + param(m)[spec_.layout.bias_offset[last]];
          expected_p[r] = 1.0 / (1.0 + std::exp(-logit));
          const float pf = p[m * rows + r];
          expected_loss += loss_value(l, pf, y_[r]) / rows;
          expected_g[r] = output_gradient(l, pf, y_[r], 1.0f / static_cast<float>(rows));
        }
        const auto slice = [&](const std::vector<float>& v) {
          return std::vector<float>(v.begin() + m * rows, v.begin() + (m + 1) * rows);
        };
        EXPECT_TRUE(close_to(slice(p), expected_p, "sigmoid")) << kLossNames[static_cast<int>(l)];
        EXPECT_TRUE(close_to(slice(g), expected_g, "dLoss/dz")) << kLossNames[static_cast<int>(l)];
        EXPECT_TRUE(close_to({losses[m]}, {expected_loss}, "loss")) << kLossNames[static_cast<int>(l)];
      }
    }
  }
}

TEST_P(BackendOps, LinearBackwardEveryLayer) {
  for (const std::vector<int>& widths : {std::vector<int>{13, 11, 7, 5, 1}, std::vector<int>{30, 90, 64, 11, 1}}) {
    for (int rows : widths[0] == 13 ? std::vector<int>(std::begin(kRowCounts), std::end(kRowCounts))
                                    : std::vector<int>(std::begin(kWideRowCounts), std::end(kWideRowCounts))) {
      start(mixed_pack(widths, Activation::ReLU, 0.0), rows);
      const ParameterLayout& L = spec_.layout;
      for (int l = L.layers() - 1; l >= 0; --l) {
        const int in = L.in(l), out = L.out(l);
        std::vector<float> input = l == 0 ? x_ : random_values(random_, spec_.models() * block(l - 1), 1.0);
        if (l > 0) write(l - 1, LayerBuffer::Activation, input);
        const std::vector<float> g = random_values(random_, spec_.models() * block(l), 1.0);
        write(l, LayerBuffer::Gradient, g);
        ws_->linear_backward(l, info(Mode::Training));
        std::vector<float> grads(params_.size());
        ws_->read_gradients(grads.data());
        const std::vector<float> dx = l > 0 ? read(l - 1, LayerBuffer::Gradient) : std::vector<float>{};
        for (int m = 0; m < spec_.models(); ++m) {
          const float* xin = l == 0 ? x_.data() : input.data() + m * block(l - 1);
          const float* gm = g.data() + m * block(l);
          std::vector<double> dw(static_cast<std::size_t>(out) * in, 0.0), db(out, 0.0),
              expected_dx(static_cast<std::size_t>(rows) * in, 0.0);
          for (int r = 0; r < rows; ++r)
            for (int o = 0; o < out; ++o) {
              db[o] += gm[r * out + o];
              for (int i = 0; i < in; ++i) {
                dw[o * in + i] += static_cast<double>(gm[r * out + o]) * xin[r * in + i];
                expected_dx[r * in + i] +=
                    static_cast<double>(gm[r * out + o]) * param(m)[L.weight_offset[l] + o * in + i];
              }
            }
          const float* gw = grads.data() + m * L.size;
          EXPECT_TRUE(
              close_to(std::vector<float>(gw + L.weight_offset[l], gw + L.weight_offset[l] + dw.size()), dw, "dW"))
              << "layer " << l;
          EXPECT_TRUE(close_to(std::vector<float>(gw + L.bias_offset[l], gw + L.bias_offset[l] + out), db, "db"))
              << "layer " << l;
          if (l > 0) {
            EXPECT_TRUE(close_to(std::vector<float>(dx.begin() + m * block(l - 1), dx.begin() + (m + 1) * block(l - 1)),
                                 expected_dx, "dX"))
                << "layer " << l << " rows " << rows;
          }
        }
      }
    }
  }
}

TEST_P(BackendOps, ActivationBackwardEveryActivation) {
  for (int a = 0; a < kActivationCount; ++a) {
    for (double dropout : {0.0, 0.3}) {
      const int rows = 13, layer = 0;
      start(mixed_pack({5, 11, 1}, static_cast<Activation>(a), dropout), rows);
      const int width = spec_.layout.out(layer);
      write(layer, LayerBuffer::PreActivation, random_values(random_, spec_.models() * block(layer), 4.0));
      ws_->bias_activation_dropout(layer, info(Mode::Training));
      const std::vector<float> z = read(layer, LayerBuffer::PreActivation), y = read(layer, LayerBuffer::Activation);
      // The loss gradient starts the backward pass and clears the PReLU slope gradient.
      write(1, LayerBuffer::Activation, std::vector<float>(spec_.models() * block(1), 0.5f));
      ws_->output_loss_gradient(info(Mode::Training));
      const std::vector<float> g = random_values(random_, spec_.models() * block(layer), 1.0);
      write(layer, LayerBuffer::Gradient, g);
      ws_->activation_backward(layer, info(Mode::Training));
      const std::vector<float> dz = read(layer, LayerBuffer::Gradient);
      std::vector<float> grads(params_.size());
      ws_->read_gradients(grads.data());
      for (int m = 0; m < spec_.models(); ++m) {
        const PackMember& member = spec_.members[m];
        std::vector<double> expected(block(layer));
        std::vector<float> g_out(block(layer));
        double slope_gradient = 0.0;
        for (std::size_t e = 0; e < block(layer); ++e) {
          float multiplier = 1.0f;
          if (member.dropout > 0) {
            multiplier =
                dropout_multiplier(member.seed, layer, 7, static_cast<std::uint32_t>(e),
                                   static_cast<float>(member.dropout), 1.0f / static_cast<float>(1.0 - member.dropout));
          }
          g_out[e] = g[m * block(layer) + e] * multiplier;
          slope_gradient += prelu_slope_gradient(z[m * block(layer) + e], g_out[e]);
        }
        if (is_row_activation(member.activation)) {
          for (int r = 0; r < rows; ++r) {
            row_activation_backward(member.activation, y.data() + m * block(layer) + r * width,
                                    g_out.data() + r * width, width);
          }
          for (std::size_t e = 0; e < block(layer); ++e) expected[e] = g_out[e];
        } else {
          for (std::size_t e = 0; e < block(layer); ++e) {
            float slope = member.activation == Activation::PReLU ? 0.3f : kRreluEvalSlope;
            if (member.activation == Activation::RReLU)
              slope = rrelu_training_slope(member.seed, layer, 7, static_cast<std::uint32_t>(e));
            expected[e] = g_out[e] * expected_derivative(member.activation, z[m * block(layer) + e],
                                                         y[m * block(layer) + e], slope);
          }
        }
        const std::string what = std::string(kActivationNames[a]) + " network " + std::to_string(m) + " dropout " +
                                 std::to_string(member.dropout);
        EXPECT_TRUE(close_to(std::vector<float>(dz.begin() + m * block(layer), dz.begin() + (m + 1) * block(layer)),
                             expected, "dZ"))
            << what;
        if (member.activation == Activation::PReLU) {
          EXPECT_TRUE(close_to({grads[m * spec_.layout.size + spec_.layout.prelu_offset]}, {slope_gradient},
                               "PReLU slope gradient"))
              << what;
        }
      }
    }
  }
}

TEST_P(BackendOps, L1PenaltyAddsSignAndMagnitude) {
  start(mixed_pack({7, 5, 1}, Activation::ReLU, 0.0), 5);  // network 0 has l1 = 0.01
  const int last = spec_.layout.layers() - 1;
  write(last, LayerBuffer::Activation, std::vector<float>(spec_.models() * block(last), 0.25f));
  ws_->output_loss_gradient(info(Mode::Training));
  const std::vector<float> before = ws_->read_losses();
  std::vector<float> zero(params_.size(), 0.0f);
  ws_->write_gradients(zero.data());
  ws_->l1_penalty(info(Mode::Training));
  std::vector<float> grads(params_.size());
  ws_->read_gradients(grads.data());
  const std::vector<float> after = ws_->read_losses();
  double magnitude = 0.0;
  std::vector<double> expected(spec_.layout.used);
  for (std::size_t i = 0; i < spec_.layout.used; ++i) {
    magnitude += std::fabs(param(0)[i]);
    expected[i] = 0.01 * (param(0)[i] > 0 ? 1.0 : (param(0)[i] < 0 ? -1.0 : 0.0));
  }
  EXPECT_TRUE(close_to(std::vector<float>(grads.begin(), grads.begin() + static_cast<long>(spec_.layout.used)),
                       expected, "L1 gradient"));
  EXPECT_TRUE(close_to({after[0]}, {before[0] + 0.01 * magnitude}, "loss with L1 term"));
  EXPECT_EQ(after[1], before[1]);  // networks without L1 are untouched
  for (std::size_t i = 0; i < spec_.layout.used; ++i) EXPECT_EQ(grads[spec_.layout.size + i], 0.0f);
}

TEST_P(BackendOps, OptimizerStepEveryOptimizerForThreeSteps) {
  for (int o = 0; o < kOptimizerCount; ++o) {
    PackSpec spec = mixed_pack({7, 5, 1}, Activation::ReLU, 0.0);
    for (int m = 0; m < spec.models(); ++m) {
      spec.members[m].optimizer = static_cast<Optimizer>((o + m) % kOptimizerCount);
      spec.members[m].learning_rate = 0.01 * (m + 1);
      spec.members[m].l2 = m == 1 ? 0.05 : 0.0;
    }
    start(spec, 5);
    std::vector<float> pf(params_.begin(), params_.end()), s1f(params_.size(), 0.0f), s2f(params_.size(), 0.0f);
    for (std::uint64_t step = 0; step < 3; ++step) {
      std::vector<float> g = random_values(random_, params_.size(), 1.0);
      for (int m = 0; m < spec_.models(); ++m)
        for (std::size_t i = spec_.layout.used; i < spec_.layout.size; ++i) g[m * spec_.layout.size + i] = 0.0f;
      ws_->write_gradients(g.data());
      std::vector<OptimizerStep> scalars;
      for (const PackMember& member : spec_.members) {
        scalars.push_back(optimizer_step_scalars(member.optimizer, member.learning_rate, member.l2,
                                                 static_cast<long long>(step) + 1));
      }
      ws_->optimizer_step(StepInfo{step, 5, Mode::Training, nullptr}, scalars);
      for (int m = 0; m < spec_.models(); ++m) {
        for (std::size_t i = 0; i < spec_.layout.size; ++i) {
          const std::size_t k = m * spec_.layout.size + i;
          with_optimizer(spec_.members[m].optimizer, [&](auto tag) {
            optimizer_update<decltype(tag)::value>(pf[k], g[k], s1f[k], s2f[k], scalars[m]);
          });
        }
      }
      std::vector<float> actual(params_.size());
      ws_->read_parameters(actual.data());
      EXPECT_TRUE(close_to(actual, std::vector<double>(pf.begin(), pf.end()), "parameters"))
          << "optimizer " << kOptimizerNames[o] << " step " << step;
    }
  }
}

TEST_P(BackendOps, ConfusionCountsAndThreshold) {
  start(mixed_pack({7, 5, 1}, Activation::ReLU, 0.0), 13);
  const int last = spec_.layout.layers() - 1;
  std::vector<float> p = random_values(random_, spec_.models() * block(last), 0.5);
  for (float& v : p) v += 0.5f;
  p[3] = 0.6f;  // exactly at the threshold: negative, as "output > threshold" says
  write(last, LayerBuffer::Activation, p);
  ws_->reset_confusion();
  ws_->count_confusion(info(Mode::Evaluation), 0.6f);
  ws_->count_confusion(info(Mode::Evaluation), 0.6f);  // counts accumulate over batches
  const std::vector<ConfusionCounts> counts = ws_->read_confusion();
  for (int m = 0; m < spec_.models(); ++m) {
    ConfusionCounts expected;
    for (int r = 0; r < rows_; ++r) {
      const bool positive = p[m * rows_ + r] > 0.6f, actual = y_[r] > 0.5f;
      expected.tp += 2 * (positive && actual);
      expected.fp += 2 * (positive && !actual);
      expected.fn += 2 * (!positive && actual);
      expected.tn += 2 * (!positive && !actual);
    }
    EXPECT_EQ(counts[m], expected) << "network " << m;
  }
}

TEST_P(BackendOps, NonFiniteLossAndParametersAreFlagged) {
  start(mixed_pack({7, 5, 1}, Activation::ReLU, 0.0), 5);
  const int last = spec_.layout.layers() - 1;
  std::vector<float> p(spec_.models() * block(last), 0.5f);
  p[block(last)] = std::numeric_limits<float>::quiet_NaN();  // network 1's first output
  write(last, LayerBuffer::Activation, p);
  ws_->output_loss_gradient(info(Mode::Training));
  ws_->check_loss(info(Mode::Training));
  std::vector<float> broken = params_;
  // Network 2's weights, more than one, as in a diverging network: several threads find them.
  broken[2 * spec_.layout.size + 3] = std::numeric_limits<float>::infinity();
  broken[2 * spec_.layout.size + 4] = std::numeric_limits<float>::quiet_NaN();
  ws_->write_parameters(broken.data());
  ws_->check_parameters();
  const std::vector<NetworkHealth> health = ws_->read_health();
  EXPECT_EQ(health[0].first_nonfinite_loss_step, -1);
  EXPECT_FALSE(health[0].nonfinite_parameters);
  EXPECT_EQ(health[1].first_nonfinite_loss_step, 7);
  EXPECT_TRUE(health[2].nonfinite_parameters);
}

TEST_P(BackendOps, InactiveNetworksAreLeftAlone) {
  start(mixed_pack({7, 5, 1}, Activation::ReLU, 0.0), 5);
  const std::uint8_t active[] = {1, 0, 1};
  const StepInfo step{0, 5, Mode::Training, active};
  ws_->linear_forward(0, step);
  const std::vector<float> z = read(0, LayerBuffer::PreActivation);
  EXPECT_FALSE(std::isnan(z[0]));
  EXPECT_TRUE(std::isnan(z[block(0)]));  // network 1 still holds the poison
  std::vector<float> g(params_.size(), 1.0f);
  ws_->write_gradients(g.data());
  ws_->optimizer_step(step, std::vector<OptimizerStep>(3, optimizer_step_scalars(Optimizer::SGD, 0.1, 0.0, 1)));
  std::vector<float> after(params_.size());
  ws_->read_parameters(after.data());
  EXPECT_EQ(after[spec_.layout.size], params_[spec_.layout.size]);
  EXPECT_NE(after[0], params_[0]);
}

// The epoch's loss sums: each step adds every active network's loss (as read_losses reports it)
// and nothing for an inactive one; taking the sums zeroes them.
TEST_P(BackendOps, LossSumsAddEachStepsLossOfActiveNetworks) {
  start(mixed_pack({7, 5, 1}, Activation::ReLU, 0.0), 5);
  const int last = spec_.layout.layers() - 1;
  const std::uint8_t all[] = {1, 1, 1}, not_second[] = {1, 0, 1};
  std::vector<double> expected(spec_.models(), 0.0);
  for (int step = 0; step < 4; ++step) {
    const std::uint8_t* active = step == 2 ? not_second : all;
    const StepInfo info{static_cast<std::uint64_t>(step), rows_, Mode::Training, active};
    write(last, LayerBuffer::PreActivation, random_values(random_, spec_.models() * block(last), 3.0));
    ws_->bias_activation_dropout(last, info);
    ws_->output_loss_gradient(info);
    ws_->l1_penalty(info);
    ws_->accumulate_loss(info);
    const std::vector<float> losses = ws_->read_losses();
    for (int m = 0; m < spec_.models(); ++m) {
      if (active[m]) expected[m] += losses[m];
    }
  }
  const std::vector<double> sums = ws_->take_loss_sums();
  ASSERT_EQ(sums.size(), expected.size());
  for (int m = 0; m < spec_.models(); ++m) {
    EXPECT_GT(sums[m], 0.0) << "network " << m;
    EXPECT_NEAR(sums[m], expected[m], 1e-6 * expected[m]) << "network " << m;  // read_losses rounds to float
  }
  for (double s : ws_->take_loss_sums()) EXPECT_EQ(s, 0.0) << "taking the sums zeroes them";
}

INSTANTIATE_TEST_SUITE_P(Every, BackendOps, ::testing::ValuesIn(backends()),
                         [](const auto& test) { return test.param.name; });

}  // namespace
}  // namespace hf
