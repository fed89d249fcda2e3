// Every gradient the backward pass computes, checked against central finite differences of
// the loss, for every activation (with dropout and RReLU's random slopes in training mode),
// every loss and the L1 term.
#include <gtest/gtest.h>

#include <cmath>

#include "host/common/random.hpp"
#include "host/training/weight_init.hpp"
#include "kernels/cpu/cpu_backend.hpp"
#include "tests/single_network.hpp"

namespace hf {
namespace {

using testing::SingleNetwork;

// Points where the activation's derivative jumps; a perturbation that moves a pre-activation
// across one makes the finite difference meaningless, so that parameter is skipped.
std::vector<float> kinks(Activation a) {
  using A = Activation;
  switch (a) {
    case A::ReLU:
    case A::LeakyReLU:
    case A::PReLU:
    case A::RReLU:
    case A::SELU: return {0.0f};
    case A::Hardshrink:
    case A::Softshrink: return {-0.5f, 0.5f};
    case A::Hardtanh: return {-1.0f, 1.0f};
    case A::Hardsigmoid:
    case A::Hardswish: return {-3.0f, 3.0f};
    case A::ReLU6: return {0.0f, 6.0f};
    case A::Softplus: return {20.0f};
    default: return {};
  }
}

struct Case {
  Activation activation;
  Loss loss;
  double dropout;
  double l1;
};

std::string case_name(const Case& c) {
  return std::string(kActivationNames[static_cast<int>(c.activation)]) + "_" + kLossNames[static_cast<int>(c.loss)] +
         (c.dropout > 0 ? "_dropout" : "") + (c.l1 > 0 ? "_l1" : "");
}

void PrintTo(const Case& c, std::ostream* os) { *os << case_name(c); }

class FiniteDifferenceGradients : public ::testing::TestWithParam<Case> {};

TEST_P(FiniteDifferenceGradients, MatchBackwardPass) {
  const Case c = GetParam();
  const std::vector<int> widths{6, 7, 5, 1};
  constexpr int kRows = 9;
  constexpr std::uint64_t kStep = 3;  // dropout masks and RReLU slopes are fixed by the step
  constexpr double kH = 1e-3;
  PackMember member;
  member.activation = c.activation;
  member.loss = c.loss;
  member.dropout = c.dropout;
  member.l1 = c.l1;
  member.seed = 99;

  CpuBackend backend;
  SingleNetwork net(backend, widths, member, kRows);
  std::vector<float> init(net.layout().size);
  initialize_parameters(net.layout(), WeightInit::XavierNormal, c.activation == Activation::PReLU, 5, init.data());
  std::vector<double> theta(init.begin(), init.begin() + static_cast<long>(net.layout().used));
  SplitMix64 random(17);
  std::vector<float> x(kRows * widths[0]), y(kRows);
  for (float& v : x) v = static_cast<float>((static_cast<double>(random.below(2001)) - 1000.0) / 400.0);
  for (float& v : y) v = static_cast<float>(random.below(2));

  net.set_parameters(theta);
  net.loss_and_gradients(x, y, Mode::Training, kStep);
  const std::vector<double> analytic = net.gradients();

  const int hidden_layers = net.layout().layers() - 1;

  int checked = 0, skipped = 0;
  for (std::size_t i = 0; i < theta.size(); ++i) {
    if (i == net.layout().prelu_offset && c.activation != Activation::PReLU) continue;  // unused slot
    if (c.l1 > 0 && std::fabs(theta[i]) <= 2 * kH) {  // |theta| is not differentiable at 0
      ++skipped;
      continue;
    }
    std::vector<double> plus = theta, minus = theta;
    plus[i] += kH;
    minus[i] -= kH;
    // Exact perturbation sizes after rounding to float.
    const double step =
        static_cast<double>(static_cast<float>(plus[i])) - static_cast<double>(static_cast<float>(minus[i]));
    net.set_parameters(plus);
    const double loss_plus = net.loss_and_gradients(x, y, Mode::Training, kStep);
    const std::vector<std::vector<double>> z_plus = net.pre_activations(hidden_layers);
    net.set_parameters(minus);
    const double loss_minus = net.loss_and_gradients(x, y, Mode::Training, kStep);
    const std::vector<std::vector<double>> z_minus = net.pre_activations(hidden_layers);
    bool crossed = false;
    for (int l = 0; l < hidden_layers && !crossed; ++l)
      for (std::size_t e = 0; e < z_plus[l].size() && !crossed; ++e)
        for (float k : kinks(c.activation)) crossed = crossed || (z_plus[l][e] - k) * (z_minus[l][e] - k) <= 0.0;
    if (crossed) {
      ++skipped;
      continue;
    }
    const double numeric = (loss_plus - loss_minus) / step;
    // Float32 losses near 1 carry ~1e-7 absolute error, divided by 2e-3: ~1e-4 of noise.
    EXPECT_NEAR(analytic[i], numeric, 2e-4 + 1e-2 * std::fabs(numeric)) << case_name(c) << " parameter " << i;
    ++checked;
  }
  // A pre-activation close to a kink disqualifies every parameter upstream of it, so some
  // activations lose a third of their checks; at least half must remain.
  EXPECT_GT(checked, static_cast<int>(theta.size()) / 2) << "too many parameters skipped (" << skipped << ")";
}

std::vector<Case> every_case() {
  std::vector<Case> cases;
  for (int a = 0; a < kActivationCount; ++a) {
    // MSE: BCE of a float sigmoid near 0 or 1 carries ~1e-5 of rounding noise in the loss,
    // too much for a finite difference; the loss cases below cover BCE on small logits.
    cases.push_back({static_cast<Activation>(a), Loss::MSE, 0.0, 0.0});
    cases.push_back({static_cast<Activation>(a), Loss::MSE, 0.3, 0.0});
  }
  for (int l = 0; l < kLossCount; ++l) cases.push_back({Activation::Tanh, static_cast<Loss>(l), 0.0, 0.001});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Every, FiniteDifferenceGradients, ::testing::ValuesIn(every_case()),
                         [](const auto& test) { return case_name(test.param); });

}  // namespace
}  // namespace hf
