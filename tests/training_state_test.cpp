// A training stopped after some epochs and continued from its state (parameters, optimizer
// states, step count) must end exactly where a training that never stopped ends: same weights,
// epoch losses, confusion counts and predicted positives, bit for bit. Successive halving relies
// on it. Run on every registered backend (the CUDA one in the emulated build, or on a GPU), with
// shuffled batches, dropout, RReLU, PReLU and every optimizer, whose states all carry over.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "host/common/random.hpp"
#include "host/training/pack_trainer.hpp"
#include "host/training/training_state.hpp"
#include "kernels/backend_registry.hpp"
#include "tests/backend_cases.hpp"
#include "tests/gpu_available.hpp"
#include "tests/linear_rule_dataset.hpp"

namespace hf {
namespace {

using testing::BackendCase;
using testing::backends;

// Rows of `features` values of spread 1; the label follows a noisy linear rule.
Dataset make_dataset(int rows, int features, std::uint64_t seed) {
  return testing::linear_rule_dataset(rows, features, seed, {1.0, -0.7, 0.4});
}

// Every optimizer twice, with dropout, RReLU, PReLU, L1 and L2 among them.
PackSpec mixed_pack(int epochs) {
  PackSpec spec{ParameterLayout({5, 9, 4, 1}), 12, {}};
  const Activation activations[] = {Activation::RReLU, Activation::PReLU, Activation::Tanh, Activation::GELU};
  for (int i = 0; i < 2 * kOptimizerCount; ++i) {
    PackMember m;
    m.optimizer = static_cast<Optimizer>(i % kOptimizerCount);
    m.activation = activations[i % 4];
    m.loss = static_cast<Loss>(i % kLossCount);
    m.learning_rate = m.optimizer == Optimizer::Adadelta ? 0.5 : (m.optimizer == Optimizer::SGD ? 0.05 : 0.01);
    m.dropout = i % 2 == 0 ? 0.25 : 0.0;
    m.l1 = i % 3 == 1 ? 1e-4 : 0.0;
    m.l2 = i % 4 == 2 ? 1e-3 : 0.0;
    m.max_epochs = epochs;
    m.seed = 900 + static_cast<std::uint64_t>(i);
    spec.members.push_back(m);
  }
  return spec;
}

PackSpec with_epochs(PackSpec spec, int epochs) {
  for (PackMember& m : spec.members) m.max_epochs = epochs;
  return spec;
}

void expect_same_outcome(const TrainingOutcome& continued, const TrainingOutcome& straight, int m) {
  ASSERT_FALSE(straight.failed) << "network " << m << ": " << straight.error;
  ASSERT_FALSE(continued.failed) << "network " << m << ": " << continued.error;
  EXPECT_EQ(continued.state.parameters, straight.state.parameters) << "network " << m << ": weights";
  EXPECT_EQ(continued.state.first_state, straight.state.first_state) << "network " << m << ": optimizer state";
  EXPECT_EQ(continued.state.second_state, straight.state.second_state) << "network " << m << ": optimizer state";
  EXPECT_EQ(continued.state.steps, straight.state.steps) << "network " << m;
  EXPECT_EQ(continued.state.epochs, straight.state.epochs) << "network " << m;
  EXPECT_EQ(continued.epoch_losses, straight.epoch_losses) << "network " << m << ": epoch losses";
  EXPECT_EQ(continued.counts.tp, straight.counts.tp) << "network " << m;
  EXPECT_EQ(continued.counts.fp, straight.counts.fp) << "network " << m;
  EXPECT_EQ(continued.counts.tn, straight.counts.tn) << "network " << m;
  EXPECT_EQ(continued.test_counts.tp, straight.test_counts.tp) << "network " << m;
  EXPECT_EQ(continued.test_counts.fp, straight.test_counts.fp) << "network " << m;
  EXPECT_TRUE(continued.predicted_positives == straight.predicted_positives) << "network " << m;
}

class ContinuedTraining : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    if (GetParam().needs_gpu) HF_SKIP_UNLESS_GPU_VISIBLE("no CUDA device is visible to continue training on");
    backend_ = GetParam().make();
    options_.shuffle = true;
    options_.order_seed = 77;
    options_.keep_state = true;
  }

  std::unique_ptr<Backend> backend_;
  PackOptions options_;
  const Dataset train_ = make_dataset(61, 5, 1);  // 6 batches of 12 and one of 1 per epoch
  const Dataset validation_ = make_dataset(40, 5, 2);
  const Dataset test_ = make_dataset(33, 5, 3);
  const EvaluationSets evaluation_{&validation_, &test_};
};

TEST_P(ContinuedTraining, ContinuedTrainingEqualsTrainingStraightThrough) {
  const std::vector<TrainingOutcome> straight = train_pack(*backend_, mixed_pack(5), train_, evaluation_, options_);
  const std::vector<TrainingOutcome> first = train_pack(*backend_, mixed_pack(2), train_, evaluation_, options_);
  std::vector<hf::TrainingState> states;
  for (const TrainingOutcome& o : first) {
    ASSERT_FALSE(o.failed) << o.error;
    ASSERT_EQ(o.state.epochs, 2);
    ASSERT_EQ(o.state.epoch_losses.size(), 2u);
    ASSERT_EQ(o.state.steps, 2u * 6u);
    states.push_back(o.state);
  }
  // Through the bytes the journal and MPI carry, as a resumed search reads them.
  for (hf::TrainingState& s : states) s = training_state_from_bytes(training_state_bytes(s));
  // In two more steps (2 -> 3 -> 5 epochs), as successive halving's rungs go.
  std::vector<TrainingOutcome> middle = train_pack(*backend_, mixed_pack(3), train_, evaluation_, options_, states);
  for (std::size_t m = 0; m < middle.size(); ++m) states[m] = middle[m].state;
  const std::vector<TrainingOutcome> continued =
      train_pack(*backend_, mixed_pack(5), train_, evaluation_, options_, states);
  ASSERT_EQ(continued.size(), straight.size());
  for (std::size_t m = 0; m < straight.size(); ++m) {
    expect_same_outcome(continued[m], straight[m], static_cast<int>(m));
    // Training changed the networks between the rungs: the comparison is not of untouched states.
    EXPECT_NE(continued[m].state.parameters, first[m].state.parameters) << "network " << m;
  }
}

// Halving repacks the candidates that continue: each network's continuation must not depend on
// the other members of its pack. On the CPU each network trains on its own numbers; on CUDA each
// network is one block of the fused kernel, its tiles chosen by layout and batch, not pack size.
TEST_P(ContinuedTraining, ContinuingInAnotherPackChangesNothing) {
  const PackSpec all = mixed_pack(4);
  const std::vector<TrainingOutcome> straight = train_pack(*backend_, all, train_, evaluation_, options_);
  const std::vector<TrainingOutcome> first = train_pack(*backend_, with_epochs(all, 1), train_, evaluation_, options_);
  PackSpec survivors{all.layout, all.batch_size, {}};
  std::vector<hf::TrainingState> states;
  std::vector<std::size_t> kept;
  for (std::size_t m = 0; m < all.members.size(); m += 3) {
    survivors.members.push_back(all.members[m]);
    states.push_back(first[m].state);
    kept.push_back(m);
  }
  const std::vector<TrainingOutcome> continued =
      train_pack(*backend_, survivors, train_, evaluation_, options_, states);
  for (std::size_t i = 0; i < kept.size(); ++i)
    expect_same_outcome(continued[i], straight[kept[i]], static_cast<int>(kept[i]));
}

TEST_P(ContinuedTraining, StatesThatDoNotFitThePackAreRefused) {
  const std::vector<TrainingOutcome> first = train_pack(*backend_, mixed_pack(1), train_, evaluation_, options_);
  std::vector<hf::TrainingState> states;
  for (const TrainingOutcome& o : first) states.push_back(o.state);
  std::vector<hf::TrainingState> one_short(states.begin(), states.end() - 1);
  EXPECT_THROW(train_pack(*backend_, mixed_pack(3), train_, evaluation_, options_, one_short), std::logic_error);
  std::vector<hf::TrainingState> wrong_steps = states;
  wrong_steps[0].steps += 1;
  for (hf::TrainingState& s : wrong_steps) s.steps = wrong_steps[0].steps;
  EXPECT_THROW(train_pack(*backend_, mixed_pack(3), train_, evaluation_, options_, wrong_steps), std::logic_error);
}

INSTANTIATE_TEST_SUITE_P(Every, ContinuedTraining, ::testing::ValuesIn(backends()),
                         [](const auto& test) { return test.param.name; });

TEST(TrainingStateBytes, RoundTripAndDamage) {
  hf::TrainingState state;
  state.epochs = 2;
  state.steps = 14;
  state.parameters = {1.5f, -2.0f, 0.25f};
  state.first_state = {0.0f, 1e-9f, -3.0f};
  state.second_state = {4.0f, 5.0f, 6.0f};
  state.epoch_losses = {0.7, 0.6};
  const std::string bytes = training_state_bytes(state);
  const hf::TrainingState back = training_state_from_bytes(bytes);
  EXPECT_EQ(back.epochs, 2);
  EXPECT_EQ(back.steps, 14u);
  EXPECT_EQ(back.parameters, state.parameters);
  EXPECT_EQ(back.first_state, state.first_state);
  EXPECT_EQ(back.second_state, state.second_state);
  EXPECT_EQ(back.epoch_losses, state.epoch_losses);
  EXPECT_THROW(training_state_from_bytes(bytes.substr(0, bytes.size() - 1)), std::runtime_error);
  EXPECT_THROW(training_state_from_bytes(bytes + "x"), std::runtime_error);
  EXPECT_THROW(training_state_from_bytes("not a state at all"), std::runtime_error);
}

}  // namespace
}  // namespace hf
