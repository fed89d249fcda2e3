// The CUDA backend against the CPU trainer, pack level: one pack mixing every activation, loss,
// optimizer and initialization (with dropout, L1, L2 and networks that stop after one epoch)
// trains on both from the same seeds; final weights (the primitives, driven step by step) and
// test-set confusion counts (train_pack: the fused kernels) must agree. Also the seed grid's own
// layouts with shuffled, partial batches, PReLU and a network that diverges, through train_pack
// (tests/cuda_fused_test.cpp pins the fused path itself). Skipped (reported, not absent) where this build has no CUDA
// backend or no device is visible; the emulated build (tests/cuda_emulation) runs them on every commit.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "host/common/random.hpp"
#include "host/training/pack_trainer.hpp"
#include "host/training/weight_init.hpp"
#include "kernels/cpu/cpu_backend.hpp"
#include "tests/every_code_pack.hpp"
#include "tests/gpu_available.hpp"
#include "tests/linear_rule_dataset.hpp"

namespace hf {
namespace {

using testing::linear_rule_dataset;
using testing::make_gpu_backend;
using testing::WithoutRaceCheck;

// Float32 on both sides, but the GEMMs sum in different orders (libxsmm's loops, cuBLAS's
// tiles), so each product differs by a few ulps (~1e-7 relative) and the difference carries
// through ~30 optimizer steps: SGD moves it linearly, while Adam-type optimizers divide by
// sqrt(v) and dropout/kinks (ReLU at 0, shrink thresholds) can flip a derivative, so a few
// parameters may move by a learning rate more on one side. 1e-3 relative L2 over a network's
// parameters leaves room for that and still catches any wrong index, mask or formula (those
// show up as O(1) errors); the share of networks allowed beyond it covers the rare flip.
constexpr double kWeightRelativeL2 = 1e-3;
constexpr double kNetworksThatMustAgree = 0.95;

// The every-code pack; its short networks stop after `epochs_of_short_networks`, the rest after 2.
PackSpec every_code_pack(int epochs_of_short_networks) {
  return testing::every_code_pack(epochs_of_short_networks, 2, 7000);
}

// Two epochs of the trainer's step sequence, in file order; returns every parameter.
std::vector<float> parameters_after_two_epochs(Backend& backend, const PackSpec& spec, const Dataset& train) {
  const ParameterLayout& layout = spec.layout;
  // More rows than a batch, as the trainer's workspaces have (their evaluation batch is larger).
  std::unique_ptr<PackWorkspace> ws = backend.create_workspace(spec, spec.batch_size + 7);
  std::vector<float> parameters(static_cast<std::size_t>(spec.models()) * layout.size);
  for (int m = 0; m < spec.models(); ++m) {
    const PackMember& member = spec.members[m];
    initialize_parameters(layout, member.weight_init, member.activation == Activation::PReLU, member.seed,
                          parameters.data() + static_cast<std::size_t>(m) * layout.size);
  }
  ws->write_parameters(parameters.data());
  std::vector<OptimizerStep> scalars(spec.models());
  std::vector<std::uint8_t> active(spec.models(), 1);
  std::uint64_t step = 0;
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (int m = 0; m < spec.models(); ++m) active[m] = epoch < spec.members[m].max_epochs;
    for (int start = 0; start < train.rows; start += spec.batch_size) {
      const int rows = std::min(spec.batch_size, train.rows - start);
      ws->load_batch(train.row(start), train.y.data() + start, rows);
      training_step(*ws, spec, StepInfo{step++, rows, Mode::Training, active.data()}, scalars);
    }
  }
  ws->read_parameters(parameters.data());
  return parameters;
}

class CudaPack : public ::testing::Test {
 protected:
  void SetUp() override { HF_SKIP_UNLESS_GPU_VISIBLE("no CUDA device visible (or no CUDA backend in this build)"); }
  const Dataset train_ = linear_rule_dataset(250, 7, 11);  // 15 batches of 16 per epoch, then one of 10
  const Dataset test_ = linear_rule_dataset(300, 7, 12);   // two evaluation batches, the second partial
};

TEST_F(CudaPack, WeightsAfterTwoEpochsFollowTheCpuTrainer) {
  const PackSpec spec = every_code_pack(1);
  CpuBackend cpu;
  std::unique_ptr<Backend> gpu = make_gpu_backend();
  const std::vector<float> expected = parameters_after_two_epochs(cpu, spec, train_);
  const std::vector<float> actual = parameters_after_two_epochs(*gpu, spec, train_);
  ASSERT_EQ(actual.size(), expected.size());
  int agreeing = 0;
  for (int m = 0; m < spec.models(); ++m) {
    double difference = 0.0, norm = 0.0;
    for (std::size_t i = 0; i < spec.layout.size; ++i) {
      const std::size_t k = static_cast<std::size_t>(m) * spec.layout.size + i;
      difference += (static_cast<double>(actual[k]) - expected[k]) * (static_cast<double>(actual[k]) - expected[k]);
      norm += static_cast<double>(expected[k]) * expected[k];
    }
    const double relative = std::sqrt(difference) / std::max(std::sqrt(norm), 1e-12);
    const bool agrees = relative <= kWeightRelativeL2;  // false for NaN too
    agreeing += agrees;
    if (!agrees) {
      const PackMember& member = spec.members[m];
      std::cout << "note (tolerated up to " << (1.0 - kNetworksThatMustAgree) * 100 << "% of networks): network " << m
                << " " << kActivationNames[static_cast<int>(member.activation)] << "/"
                << kLossNames[static_cast<int>(member.loss)] << "/"
                << kOptimizerNames[static_cast<int>(member.optimizer)] << " differs by " << relative << "\n";
    }
  }
  EXPECT_GE(agreeing, static_cast<int>(std::ceil(kNetworksThatMustAgree * spec.models())))
      << agreeing << " of " << spec.models() << " networks agree";
}

TEST_F(CudaPack, TrainPackGivesTheCpuTrainersConfusionCounts) {
  const PackSpec spec = every_code_pack(1);
  CpuBackend cpu;
  std::unique_ptr<Backend> gpu = make_gpu_backend();
  const PackOptions options;
  const std::vector<TrainingOutcome> expected = train_pack(cpu, spec, train_, test_, options);
  const std::vector<TrainingOutcome> actual = train_pack(*gpu, spec, train_, test_, options);
  ASSERT_EQ(actual.size(), expected.size());
  int agreeing = 0;
  for (int m = 0; m < spec.models(); ++m) {
    EXPECT_EQ(actual[m].counts.total(), expected[m].failed ? 0 : test_.rows) << "network " << m;
    // The predicted positives, read back from the GPU's outputs, are the rows it counted.
    if (!actual[m].failed) {
      EXPECT_EQ(actual[m].predicted_positives.rows(), test_.rows) << "network " << m;
      EXPECT_EQ(actual[m].predicted_positives.count(), actual[m].counts.tp + actual[m].counts.fp) << "network " << m;
    }
    agreeing += actual[m].failed == expected[m].failed && actual[m].counts == expected[m].counts &&
                actual[m].predicted_positives == expected[m].predicted_positives;
  }
  EXPECT_GE(agreeing, static_cast<int>(std::ceil(kNetworksThatMustAgree * spec.models())))
      << agreeing << " of " << spec.models() << " networks have the CPU's confusion counts";
}

// The seed grid's networks (30 inputs; [2, 3, 2, 1, 0.5] and [2, 3, 2, 1, 0.5, 0.25] hidden
// multiples) with its hyperparameter values, batch 32 and 64 over a training set that leaves a
// partial last batch, shuffled every epoch, networks stopping after one or two epochs, and one
// network whose learning rate makes it diverge: both backends must fail the same networks and
// give the same confusion counts to the share the pack test above justifies.
PackSpec seed_grid_pack(const std::vector<double>& hidden, int batch_size) {
  PackSpec spec{ParameterLayout(layer_widths(30, hidden)), batch_size, {}};
  const Activation activations[] = {Activation::LeakyReLU, Activation::PReLU, Activation::ReLU, Activation::Tanh};
  const Loss losses[] = {Loss::BCE, Loss::MSE, Loss::Huber, Loss::SmoothL1};
  for (int i = 0; i < 24; ++i) {
    PackMember m;
    m.activation = activations[i % 4];
    m.loss = losses[(i / 4) % 4];
    m.optimizer = i % 2 == 0 ? Optimizer::Adam : Optimizer::RMSprop;
    m.weight_init = i % 3 == 0 ? WeightInit::XavierNormal : WeightInit::XavierUniform;
    m.learning_rate = i % 5 == 0 ? 0.0005 : 0.001;
    m.dropout = i % 3 == 1 ? 0.2 : 0.0;
    m.max_epochs = i % 6 == 5 ? 1 : 2;
    m.seed = 9100 + static_cast<std::uint64_t>(i);
    spec.members.push_back(m);
  }
  spec.members.push_back(testing::diverging_network(Activation::ReLU, Loss::MSE, 2, 9999));
  return spec;
}

TEST_F(CudaPack, SeedGridLayoutsWithShuffledPartialBatchesAgreeWithTheCpuTrainer) {
  // 100 seed networks; FusedPath.EveryPlacementTrainsUnderTheRaceCheck race-checks the fused path.
  const WithoutRaceCheck faster;
  const Dataset train = linear_rule_dataset(1000, 30, 21);  // 1000 = 31 x 32 + 8 = 15 x 64 + 40
  const Dataset test = linear_rule_dataset(600, 30, 22);    // evaluation batches of 256, 256, 88
  CpuBackend cpu;
  std::unique_ptr<Backend> gpu = make_gpu_backend();
  PackOptions options;
  options.shuffle = true;
  options.order_seed = 77;
  for (const std::vector<double>& hidden : {std::vector<double>{2, 3, 2, 1, 0.5}, {2, 3, 2, 1, 0.5, 0.25}}) {
    for (int batch : {32, 64}) {
      const PackSpec spec = seed_grid_pack(hidden, batch);
      const std::vector<TrainingOutcome> expected = train_pack(cpu, spec, train, test, options);
      const std::vector<TrainingOutcome> actual = train_pack(*gpu, spec, train, test, options);
      ASSERT_EQ(actual.size(), expected.size());
      EXPECT_TRUE(expected.back().failed) << "the diverging network should fail on the CPU";
      int agreeing = 0;
      for (int m = 0; m < spec.models(); ++m) {
        EXPECT_EQ(actual[m].failed, expected[m].failed) << "network " << m << " batch " << batch;
        agreeing += actual[m].failed == expected[m].failed && actual[m].counts == expected[m].counts;
      }
      EXPECT_GE(agreeing, static_cast<int>(std::ceil(kNetworksThatMustAgree * spec.models())))
          << agreeing << " of " << spec.models() << " networks (" << spec.layout.layers() << " layers, batch " << batch
          << ") have the CPU's confusion counts";
    }
  }
}

}  // namespace
}  // namespace hf
