// hyperfuse's forward pass, loss, gradients and optimizer steps against PyTorch, for every
// activation, loss and optimizer (fixtures from tests/fixtures/generate_pytorch_fixtures.py).
//
// Tolerances: both sides compute in float32 but in different orders (libxsmm vs MKL-DNN/
// ATen GEMMs, our fused loops vs ATen kernels, libm vs Sleef transcendentals), so results
// differ by a few float ulps per operation. Outputs and losses pass through ~10 operations:
// 1e-6 absolute + 1e-5 relative. Gradients accumulate over 11 rows and 3 layers: 1e-6 + 1e-4
// relative. Six optimizer steps amplify the gradient differences through Adam-style
// normalisation: 2e-6 + 2e-4 relative on the parameters.
#include <gtest/gtest.h>

#include "kernels/cpu/cpu_backend.hpp"
#include "kernels/math/codes.hpp"
#include "tests/fixture_file.hpp"
#include "tests/single_network.hpp"

namespace hf {
namespace {

using testing::all_close;
using testing::as_floats;
using testing::as_ints;
using testing::FixtureCase;
using testing::read_fixture_file;
using testing::SingleNetwork;

template <typename Enum, int N>
Enum code_named(const char* const (&names)[N], const std::string& name) {
  for (int i = 0; i < N; ++i)
    if (name == names[i]) return static_cast<Enum>(i);
  throw std::invalid_argument("no code named " + name);
}

struct ForwardBackward {
  std::vector<double> output, gradients;
  double loss = 0.0;
};

ForwardBackward run_case(const FixtureCase& c, const PackMember& member, Mode mode) {
  CpuBackend backend;
  const std::vector<float> x = as_floats(c.at("x")), y = as_floats(c.at("y"));
  SingleNetwork net(backend, as_ints(c.at("widths")), member, static_cast<int>(y.size()));
  net.set_parameters(c.at("parameters"));
  ForwardBackward r;
  r.loss = net.loss_and_gradients(x, y, mode);
  r.output = net.forward(x, y, mode);  // the forward pass again: outputs are unchanged by backward
  r.gradients = net.gradients();
  return r;
}

TEST(PytorchSemantics, FixturesCoverEveryActivationLossAndOptimizer) {
  EXPECT_EQ(read_fixture_file("activations.txt").size(), static_cast<std::size_t>(kActivationCount));
  EXPECT_EQ(read_fixture_file("losses.txt").size(), static_cast<std::size_t>(kLossCount));
  EXPECT_EQ(read_fixture_file("optimizers.txt").size(), static_cast<std::size_t>(kOptimizerCount));
}

class ActivationAgainstPytorch : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(ActivationAgainstPytorch, ForwardLossAndGradients) {
  const FixtureCase& c = GetParam();
  PackMember member;
  member.activation = code_named<Activation>(kActivationNames, c.name);
  member.loss = Loss::BCE;
  // PyTorch's RReLU draws random slopes in training mode; its fixture is in eval mode.
  const Mode mode = member.activation == Activation::RReLU ? Mode::Evaluation : Mode::Training;
  const ForwardBackward r = run_case(c, member, mode);
  EXPECT_TRUE(all_close(r.output, c.at("output"), 1e-6, 1e-5)) << c.name << " output";
  EXPECT_TRUE(all_close({r.loss}, c.at("loss"), 1e-6, 1e-5)) << c.name << " loss";
  EXPECT_TRUE(all_close(r.gradients, c.at("gradients"), 1e-6, 1e-4)) << c.name << " gradients";
}

INSTANTIATE_TEST_SUITE_P(Every, ActivationAgainstPytorch, ::testing::ValuesIn(read_fixture_file("activations.txt")),
                         [](const auto& test) { return test.param.name; });

class LossAgainstPytorch : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(LossAgainstPytorch, ForwardLossAndGradients) {
  const FixtureCase& c = GetParam();
  PackMember member;
  member.activation = Activation::Tanh;
  member.loss = code_named<Loss>(kLossNames, c.name);
  const ForwardBackward r = run_case(c, member, Mode::Training);
  EXPECT_TRUE(all_close(r.output, c.at("output"), 1e-6, 1e-5)) << c.name << " output";
  EXPECT_TRUE(all_close({r.loss}, c.at("loss"), 1e-6, 1e-5)) << c.name << " loss";
  EXPECT_TRUE(all_close(r.gradients, c.at("gradients"), 1e-6, 1e-4)) << c.name << " gradients";
}

INSTANTIATE_TEST_SUITE_P(Every, LossAgainstPytorch, ::testing::ValuesIn(read_fixture_file("losses.txt")),
                         [](const auto& test) { return test.param.name; });

class OptimizerAgainstPytorch : public ::testing::TestWithParam<FixtureCase> {};

// Two epochs of mini-batches of 4 over 11 rows (the last batch partial), with L1 and L2
// (weight decay) regularization and a PReLU slope among the parameters.
TEST_P(OptimizerAgainstPytorch, ParametersAfterEveryStep) {
  const FixtureCase& c = GetParam();
  const std::vector<double>& settings = c.at("settings");  // lr, l1, l2, batch
  PackMember member;
  member.activation = Activation::PReLU;
  member.loss = Loss::BCE;
  member.optimizer = code_named<Optimizer>(kOptimizerNames, c.name);
  member.learning_rate = settings[0];
  member.l1 = settings[1];
  member.l2 = settings[2];
  const int batch = static_cast<int>(settings[3]);
  const std::vector<double>& x = c.at("x");
  const std::vector<double>& y = c.at("y");
  const std::vector<int> widths = as_ints(c.at("widths"));
  const int rows = static_cast<int>(y.size());

  CpuBackend backend;
  SingleNetwork net(backend, widths, member, batch);
  net.set_parameters(c.at("parameters"));
  const std::size_t used = net.layout().used;
  const std::vector<double>& expected = c.at("parameters_after_each_step");
  const std::vector<double>& losses = c.at("losses");
  std::uint64_t step = 0;
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (int start = 0; start < rows; start += batch, ++step) {
      const int n = std::min(batch, rows - start);
      const std::vector<float> xb(x.begin() + start * widths[0], x.begin() + (start + n) * widths[0]);
      const std::vector<float> yb(y.begin() + start, y.begin() + start + n);
      const double loss = net.train_step(xb, yb, step);
      EXPECT_TRUE(all_close({loss}, {losses[step]}, 1e-6, 1e-5)) << c.name << " loss at step " << step;
      const std::vector<double> want(expected.begin() + static_cast<long>(step * used),
                                     expected.begin() + static_cast<long>((step + 1) * used));
      ASSERT_TRUE(all_close(net.parameters(), want, 2e-6, 2e-4)) << c.name << " parameters after step " << step;
    }
  }
  EXPECT_EQ(step * used, expected.size());
}

INSTANTIATE_TEST_SUITE_P(Every, OptimizerAgainstPytorch, ::testing::ValuesIn(read_fixture_file("optimizers.txt")),
                         [](const auto& test) { return test.param.name; });

}  // namespace
}  // namespace hf
