// The fused CUDA path (kernels/cuda/fused_*): its plan (shared memory or global scratch for each
// buffer, optimizer state in registers or in a buffer, register tiles), and whole packs trained
// through it by train_pack against the CPU trainer on the same seeds: every activation, loss,
// optimizer and initialization with dropout, L1 and L2; batch 32 and 64 with partial batches,
// shuffling, PReLU and a diverging network on the seed's layouts; layouts whose weights,
// activations or optimizer states do not fit on chip. A spy backend pins that train_pack takes
// the whole-epoch path there (no primitive runs), and epochs split into launches of a few steps
// give the one-launch results bit for bit. The GPU tests skip where no CUDA device is
// visible; the emulated build (tests/cuda_emulation) runs them on every commit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <iostream>
#include <optional>

#include "host/common/random.hpp"
#include "host/training/pack_trainer.hpp"
#include "kernels/backend/forwarding_workspace.hpp"
#include "kernels/cpu/cpu_backend.hpp"
#include "kernels/cuda/fused_plan.hpp"
#include "kernels/cuda/fused_step_cost.hpp"
#include "kernels/math/optimizers.hpp"
#include "tests/every_code_pack.hpp"
#include "tests/gpu_available.hpp"
#include "tests/linear_rule_dataset.hpp"
#if HYPERFUSE_CUDA_EMULATED
#include "tests/cuda_emulation/emulation_control.hpp"
#endif

namespace hf {
namespace {

using testing::linear_rule_dataset;
using testing::make_gpu_backend;
using testing::WithoutRaceCheck;

// ---- The plan ----

std::vector<int> seed_widths(bool seven_layers) {
  return seven_layers ? layer_widths(30, {2, 3, 2, 1, 0.5, 0.25}) : layer_widths(30, {2, 3, 2, 1, 0.5});
}

// Every placement in bounds, aligned to 16 bytes, and no two in one memory overlap.
void expect_consistent(const FusedPlan& plan) {
  std::vector<FusedPlacement> all{plan.batch_x[0],     plan.batch_x[1], plan.labels,
                                  plan.loss_terms,     plan.reductions, plan.row_gradient,
                                  plan.row_activation, plan.bias_state, plan.tile_state};
  for (const FusedLayerPlan& p : plan.layers) {
    for (const FusedPlacement& q : {p.weights, p.biases, p.pre_activation, p.output, p.mask}) all.push_back(q);
    EXPECT_EQ(p.in4 % 4, 0);
    EXPECT_GE(p.in4, p.in);
    EXPECT_EQ(p.weights.words, static_cast<std::size_t>(p.out4) * p.in4);
  }
  std::vector<std::pair<std::size_t, std::size_t>> shared, global;
  for (const FusedPlacement& p : all) {
    if (p.words == 0) continue;
    EXPECT_EQ(p.offset % 4, 0u);
    (p.shared ? shared : global).push_back({p.offset, p.offset + p.words});
  }
  for (auto* ranges : {&shared, &global}) {
    std::sort(ranges->begin(), ranges->end());
    for (std::size_t i = 1; i < ranges->size(); ++i) EXPECT_LE((*ranges)[i - 1].second, (*ranges)[i].first);
  }
  for (const auto& r : shared) EXPECT_LE(r.second, plan.shared_words);
  for (const auto& r : global) EXPECT_LE(r.second, plan.global_words_per_network);
  EXPECT_LE(plan.shared_bytes(), kH100SharedBytesPerBlock);
  EXPECT_EQ(plan.stride % 4, 0);
  EXPECT_EQ(plan.stride / 4 % 2, 1) << "rows of Z and OUT an odd number of 16-byte groups apart";
}

TEST(FusedPlan, TheSeedNetworksTrainOnChipAtBatch32And64) {
  for (bool seven : {false, true}) {
    for (int batch : {32, 64}) {
      SCOPED_TRACE(std::to_string(seven ? 7 : 6) + " layers, batch " + std::to_string(batch));
      const FusedPlan plan =
          plan_fused_training(ParameterLayout(seed_widths(seven)), batch, true, false, kH100SharedBytesPerBlock);
      expect_consistent(plan);
      EXPECT_EQ(plan.state_slots, 4) << "about 970 weight tiles: four per thread, their Adam states in registers";
      EXPECT_EQ(plan.tile_state.words, 0u);
      // Every activation and weight in shared memory (the 7-layer network at batch 64 leaves
      // its last layer's 8 weights in global memory).
      for (std::size_t l = 0; l < plan.layers.size(); ++l) {
        EXPECT_TRUE(plan.layers[l].pre_activation.shared);
        if (l + 1 < plan.layers.size()) {
          EXPECT_TRUE(plan.layers[l].output.shared);
        }
        if (!(seven && batch == 64)) {
          EXPECT_TRUE(plan.layers[l].weights.shared) << "layer " << l;
        }
      }
      EXPECT_TRUE(plan.batch_x[0].shared && plan.batch_x[1].shared);
      EXPECT_EQ(plan.layers.back().forward.m, 1) << "the 1-wide output layer computes no padding rows";
    }
  }
}

TEST(FusedPlan, WhatDoesNotFitOnChipGoesToGlobalScratch) {
  // 200 x 8 and 300 x 200 weights: the second (240 KB) cannot be in shared memory.
  const FusedPlan wide =
      plan_fused_training(ParameterLayout({8, 200, 300, 1}), 32, false, false, kH100SharedBytesPerBlock);
  expect_consistent(wide);
  EXPECT_TRUE(wide.layers[0].weights.shared);
  EXPECT_FALSE(wide.layers[1].weights.shared);
  EXPECT_GT(wide.global_words_per_network, 0u);
  // A batch of 2,000 rows: even the activations do not all fit.
  const FusedPlan tall = plan_fused_training(ParameterLayout({4, 64, 1}), 2000, true, false, kH100SharedBytesPerBlock);
  expect_consistent(tall);
  EXPECT_FALSE(tall.layers[0].output.shared && tall.layers[0].pre_activation.shared);
  // A shared-memory limit of nothing but the bookkeeping: everything else global.
  const FusedPlan none =
      plan_fused_training(ParameterLayout({5, 7, 1}), 8, true, true, (kFusedReductionWords + 4) * sizeof(float));
  expect_consistent(none);
  EXPECT_FALSE(none.layers[0].weights.shared);
  EXPECT_FALSE(none.batch_x[0].shared);
}

TEST(FusedPlan, RegisterSlotsFollowTheWeightTilesPerThread) {
  const FusedPlan small =
      plan_fused_training(ParameterLayout({7, 11, 5, 1}), 16, false, false, kH100SharedBytesPerBlock);
  EXPECT_EQ(small.state_slots, 1);
  EXPECT_EQ(small.weight_tiles, 2 * 3 + 2 * 3 + 1 * 2);  // ceil(out/4) x ceil(in/4) per layer
  EXPECT_EQ(small.tile_state.words, 0u);
  const FusedPlan middle =
      plan_fused_training(ParameterLayout({30, 60, 60, 1}), 32, false, false, kH100SharedBytesPerBlock);
  EXPECT_EQ(middle.state_slots, 2);  // 120 + 225 + 15 = 360 tiles: two per thread
  // 512 + 1280 + 40 = 1,832 tiles: eight per thread, four with their states in registers, four in
  // the tile_state buffer.
  const FusedPlan large =
      plan_fused_training(ParameterLayout({64, 128, 160, 1}), 32, false, false, kH100SharedBytesPerBlock);
  EXPECT_EQ(large.state_slots, 4);
  EXPECT_EQ(large.tile_state.words, 4u * 32u * kFusedThreads);
  expect_consistent(large);
}

TEST(FusedPlan, RowActivationsAndDropoutGetTheirBuffersOnlyWhenAPackHasThem) {
  const ParameterLayout layout({9, 13, 6, 1});
  const FusedPlan plain = plan_fused_training(layout, 16, false, false, kH100SharedBytesPerBlock);
  EXPECT_EQ(plain.row_gradient.words, 0u);
  EXPECT_EQ(plain.layers[0].mask.words, 0u);
  const FusedPlan both = plan_fused_training(layout, 16, true, true, kH100SharedBytesPerBlock);
  EXPECT_GT(both.row_gradient.words, 0u);
  EXPECT_GT(both.row_activation.words, 0u);
  EXPECT_EQ(both.layers[0].mask_words, (16 * 13 + 31) / 32);
  EXPECT_EQ(both.layers[2].mask.words, 0u) << "no dropout after the output layer";
  expect_consistent(both);
}

// ---- Whole packs through the fused path ----

// Records which path train_pack took on the backend it wraps: whole epochs and evaluations, or
// primitives (any of the step functions).
struct PathLog {
  int epochs = 0, evaluations = 0, primitive_calls = 0;
};

class SpyWorkspace final : public ForwardingWorkspace {
 public:
  SpyWorkspace(std::unique_ptr<PackWorkspace> inner, PathLog& log) : ForwardingWorkspace(std::move(inner)), log_(log) {}
  bool load_training_rows(const RowsView& train) override { return inner().load_training_rows(train); }
  bool train_epoch(const EpochRequest& request) override {
    const bool whole = inner().train_epoch(request);
    log_.epochs += whole;
    return whole;
  }
  bool evaluate(const RowsView& rows, float threshold, const std::uint8_t* active, bool positives,
                EvaluationResult& result) override {
    const bool whole = inner().evaluate(rows, threshold, active, positives, result);
    log_.evaluations += whole;
    return whole;
  }
  void linear_forward(int l, const StepInfo& i) override {
    ++log_.primitive_calls;
    ForwardingWorkspace::linear_forward(l, i);
  }
  void optimizer_step(const StepInfo& i, const std::vector<OptimizerStep>& s) override {
    ++log_.primitive_calls;
    ForwardingWorkspace::optimizer_step(i, s);
  }
  void count_confusion(const StepInfo& i, float threshold) override {
    ++log_.primitive_calls;
    ForwardingWorkspace::count_confusion(i, threshold);
  }

 private:
  PathLog& log_;
};

class SpyBackend final : public Backend {
 public:
  explicit SpyBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
  const char* name() const override { return inner_->name(); }
  std::unique_ptr<PackWorkspace> create_workspace(const PackSpec& spec, int max_rows) override {
    return std::make_unique<SpyWorkspace>(inner_->create_workspace(spec, max_rows), log);
  }
  PathLog log;

 private:
  std::unique_ptr<Backend> inner_;
};

// How the GPU's outcomes compare with the CPU trainer's, network by network.
struct Agreement {
  int networks = 0;
  int same_failure = 0;   // both failed or both did not
  int same_counts = 0;    // and the same confusion counts and predicted positives
  int close_weights = 0;  // final parameters within kWeightRelativeL2 (failed networks: none kept)
  int close_losses = 0;   // every epoch's mean loss within kLossRelative (or both not finite)
};

// As tests/cuda_pack_test.cpp argues: float32 on both sides with GEMM sums in another order, so a
// few networks may drift by more after a kink flips; 95% must agree.
constexpr double kWeightRelativeL2 = 1e-3;
constexpr double kLossRelative = 1e-3;
constexpr double kNetworksThatMustAgree = 0.95;

double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double difference = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(difference) / std::max(std::sqrt(norm), 1e-12);
}

Agreement compare(const PackSpec& spec, const std::vector<TrainingOutcome>& gpu,
                  const std::vector<TrainingOutcome>& cpu) {
  Agreement a;
  a.networks = spec.models();
  for (int m = 0; m < spec.models(); ++m) {
    const TrainingOutcome& g = gpu[static_cast<std::size_t>(m)];
    const TrainingOutcome& c = cpu[static_cast<std::size_t>(m)];
    const bool same_failure = g.failed == c.failed;
    a.same_failure += same_failure;
    const bool same_counts = same_failure && g.counts == c.counts && g.test_counts == c.test_counts &&
                             g.predicted_positives == c.predicted_positives;
    a.same_counts += same_counts;
    const bool close = same_failure && g.parameters.size() == c.parameters.size() &&
                       (c.parameters.empty() || relative_l2(g.parameters, c.parameters) <= kWeightRelativeL2);
    a.close_weights += close;
    bool losses = g.epoch_losses.size() == c.epoch_losses.size();
    for (std::size_t e = 0; losses && e < c.epoch_losses.size(); ++e) {
      const double x = g.epoch_losses[e], y = c.epoch_losses[e];
      losses = std::isfinite(y) ? std::abs(x - y) <= kLossRelative * std::max(std::abs(y), 1e-6) : !std::isfinite(x);
    }
    a.close_losses += losses;
    if (!same_counts || !close || !losses) {
      const PackMember& member = spec.members[static_cast<std::size_t>(m)];
      std::cout << "note (tolerated up to " << (1.0 - kNetworksThatMustAgree) * 100 << "% of networks): network " << m
                << " " << kActivationNames[static_cast<int>(member.activation)] << "/"
                << kLossNames[static_cast<int>(member.loss)] << "/"
                << kOptimizerNames[static_cast<int>(member.optimizer)] << (same_counts ? "" : " counts differ")
                << (close ? "" : " weights differ") << (losses ? "" : " losses differ") << "\n";
    }
  }
  return a;
}

void expect_agreement(const Agreement& a, const std::string& what) {
  const int must = static_cast<int>(std::ceil(kNetworksThatMustAgree * a.networks));
  EXPECT_EQ(a.same_failure, a.networks) << what << ": every network fails on both or on neither";
  EXPECT_GE(a.same_counts, must) << what << ": networks with the CPU's confusion counts and predictions";
  EXPECT_GE(a.close_weights, must) << what << ": networks with the CPU's final weights";
  EXPECT_GE(a.close_losses, must) << what << ": networks with the CPU's epoch losses";
}

struct PackRuns {
  std::vector<TrainingOutcome> gpu, cpu;
  PathLog path;
};

PackRuns train_both(const PackSpec& spec, const Dataset& train, const EvaluationSets& sets, PackOptions options) {
  options.keep_parameters = true;
  CpuBackend cpu;
  SpyBackend gpu(make_gpu_backend());
  PackRuns run;
  run.cpu = train_pack(cpu, spec, train, sets, options);
  run.gpu = train_pack(gpu, spec, train, sets, options);
  run.path = gpu.log;
  return run;
}

int most_epochs(const PackSpec& spec) {
  int epochs = 0;
  for (const PackMember& m : spec.members) epochs = std::max(epochs, m.max_epochs);
  return epochs;
}

class FusedPath : public ::testing::Test {
 protected:
  void SetUp() override { HF_SKIP_UNLESS_GPU_VISIBLE("no CUDA device visible (or no CUDA backend in this build)"); }
};

// Every activation (row activations included), loss, optimizer and initialization, with dropout,
// L1 and L2, networks that stop after one of three epochs, and one that diverges; batch 16 over
// 250 rows (a partial last batch), a validation set and a test set. The race check stays on.
TEST_F(FusedPath, EveryActivationLossOptimizerAndInitialization) {
  PackSpec spec = testing::every_code_pack(1, 3, 7100);
  spec.members.push_back(testing::diverging_network(Activation::ReLU, Loss::MSE, 3, 7999));
  const Dataset train = linear_rule_dataset(250, 7, 31), validation = linear_rule_dataset(90, 7, 32),
                test = linear_rule_dataset(70, 7, 33);
  const PackRuns run = train_both(spec, train, EvaluationSets{&validation, &test}, PackOptions{});
  EXPECT_TRUE(run.cpu.back().failed) << "the diverging network fails on the CPU";
  expect_agreement(compare(spec, run.gpu, run.cpu), "every code");
  EXPECT_EQ(run.path.epochs, most_epochs(spec)) << "train_pack hands every epoch to the fused kernel";
  EXPECT_EQ(run.path.evaluations, 2) << "the validation and the test set, each in one call";
  EXPECT_EQ(run.path.primitive_calls, 0) << "no primitive runs on the fused path";
}

// The seed grid's layouts and hyperparameter values at batch 32 and 64, shuffled, over 300
// rows (9 x 32 + 12 = 4 x 64 + 44: partial last batches), with a diverging network.
TEST_F(FusedPath, SeedLayoutsAtBatch32And64ShuffledWithPartialBatches) {
  // The seed networks' tiles: EveryPlacementTrainsUnderTheRaceCheck race-checks each placement.
  const WithoutRaceCheck faster;
  const Dataset train = linear_rule_dataset(300, 30, 41), test = linear_rule_dataset(130, 30, 42);
  PackOptions options;
  options.shuffle = true;
  options.order_seed = 99;
  for (bool seven : {false, true}) {
    for (int batch : {32, 64}) {
      PackSpec spec{ParameterLayout(seed_widths(seven)), batch, {}};
      const Activation activations[] = {Activation::LeakyReLU, Activation::PReLU, Activation::ReLU, Activation::Tanh};
      const Loss losses[] = {Loss::BCE, Loss::MSE, Loss::Huber, Loss::SmoothL1};
      for (int i = 0; i < 8; ++i) {
        PackMember m;
        m.activation = activations[i % 4];
        m.loss = losses[(i + (seven ? 1 : 0)) % 4];
        m.optimizer = i % 2 == 0 ? Optimizer::Adam : Optimizer::RMSprop;
        m.weight_init = i % 3 == 0 ? WeightInit::XavierNormal : WeightInit::XavierUniform;
        m.learning_rate = i % 5 == 0 ? 0.0005 : 0.001;
        m.dropout = i % 3 == 1 ? 0.2 : 0.0;
        m.max_epochs = i == 5 ? 1 : 2;
        m.seed = 9200 + static_cast<std::uint64_t>(i) + (seven ? 100 : 0) + static_cast<std::uint64_t>(batch);
        spec.members.push_back(m);
      }
      spec.members.push_back(testing::diverging_network(Activation::PReLU, Loss::BCE, 2, 9999));
      const std::string what = std::to_string(spec.layout.layers()) + " layers, batch " + std::to_string(batch);
      const PackRuns run = train_both(spec, train, EvaluationSets{&test, nullptr}, options);
      EXPECT_TRUE(run.cpu.back().failed) << what;
      expect_agreement(compare(spec, run.gpu, run.cpu), what);
      EXPECT_EQ(run.path.primitive_calls, 0) << what;
    }
  }
}

// Layouts the fused kernel trains partly from global memory, as its plan says: weights (a 300 x
// 200 layer), activations (a batch of 2,000 rows), optimizer states past four tiles per thread
// (1,832 tiles, Adam and Adamax).
TEST_F(FusedPath, GlobalMemoryFallbacksAgreeWithTheCpuTrainer) {
  struct Case {
    std::vector<int> widths;
    int batch;
    const char* what;
  };
  const std::vector<Case> cases = {{{8, 200, 300, 1}, 16, "weights in global memory"},
                                   {{4, 24, 1}, 2000, "activations in global memory"},
                                   {{64, 128, 160, 1}, 8, "optimizer states in a buffer"}};
  for (const Case& c : cases) {
    const ParameterLayout layout(c.widths);
    const FusedPlan plan = plan_fused_training(layout, c.batch, true, false, kH100SharedBytesPerBlock);
    EXPECT_FALSE(plan.fully_shared() && plan.tile_state.words == 0) << c.what << ": the plan puts something off chip";
    PackSpec spec{layout, c.batch, {}};
    for (int i = 0; i < 4; ++i) {
      PackMember m;
      m.activation = i % 2 == 0 ? Activation::ReLU : Activation::Tanh;
      m.optimizer = i < 2 ? Optimizer::Adam : Optimizer::Adamax;
      m.dropout = i == 1 ? 0.1 : 0.0;
      m.l1 = i == 3 ? 1e-4 : 0.0;
      m.learning_rate = 0.002;
      m.max_epochs = 2;
      m.seed = 5300 + static_cast<std::uint64_t>(i);
      spec.members.push_back(m);
    }
    const Dataset train = linear_rule_dataset(c.batch > 1000 ? 2500 : 40, c.widths.front(), 51);
    const Dataset test = linear_rule_dataset(60, c.widths.front(), 52);
    const WithoutRaceCheck faster;  // EveryPlacementTrainsUnderTheRaceCheck race-checks these placements
    const PackRuns run = train_both(spec, train, EvaluationSets{&test, nullptr}, PackOptions{});
    expect_agreement(compare(spec, run.gpu, run.cpu), c.what);
    EXPECT_EQ(run.path.epochs, 2) << c.what;
  }
}

// Every placement the plan can choose, trained under the emulation's race check (the runs above
// switch it off for their size): in global scratch the weights, the activations and
// row-activation buffers, everything but the labels and loss terms (biases and their optimizer
// states, dropout masks, the batch), and the tile-state buffer; that buffer in shared memory; and
// each register-slot kernel (1, 2 and 4 tiles per thread). The plan's own limit (227 KiB) puts
// them there with the least work: three networks (ReLU, Tanh with dropout, Softmax), one epoch of
// two steps (the second of 3 rows), and a test set for the evaluation kernel. Each case checks
// that the plan placed what it names. (The labels and loss terms leave shared memory only past
// 58,000 rows a batch, a run of 3 s here; tests/cuda_emulation/README.md lists them as not
// race-checked.)
TEST_F(FusedPath, EveryPlacementTrainsUnderTheRaceCheck) {
  if (testing::gpu_backend_entry()->device_memory(0).limits.shared_bytes_per_block != kH100SharedBytesPerBlock)
    GTEST_SKIP() << "the cases are sized to the H100's 227 KiB per block (the default emulated card), where the "
                    "backend's plan places each as the case names";
  const std::optional<bool> race_check = testing::emulated_race_check_recording();
  if (race_check) {
    ASSERT_TRUE(*race_check) << "HYPERFUSE_EMU_RACE_CHECK=0 leaves this test nothing to check";
  }
  struct Case {
    std::vector<int> widths;
    int batch;
    const char* what;
    std::function<bool(const FusedPlan&)> placed;
  };
  const std::vector<Case> cases = {
      {{8, 200, 300, 1},
       4,
       "weights in global scratch",
       [](const FusedPlan& p) { return p.layers[0].weights.shared && !p.layers[1].weights.shared; }},
      {{4, 24, 1},
       2000,
       "activations and the row-activation buffers in global scratch",
       [](const FusedPlan& p) {
         return !p.layers[0].pre_activation.shared && !p.layers[0].output.shared && !p.row_gradient.shared &&
                !p.row_activation.shared;
       }},
      {{4, 8, 1},
       29032,
       "all but the labels and loss terms in global scratch: biases and their optimizer states, dropout masks, "
       "the batch, activations and weights",
       [](const FusedPlan& p) {
         const FusedLayerPlan& l = p.layers[0];
         return p.labels.shared && p.loss_terms.shared && !l.biases.shared && !p.bias_state.shared && !l.mask.shared &&
                !p.batch_x[0].shared && !l.pre_activation.shared && !l.weights.shared && !p.layers[1].weights.shared;
       }},
      {{64, 128, 160, 1},
       4,
       "optimizer states in the tile-state buffer in global scratch, 4 register slots",
       [](const FusedPlan& p) { return p.state_slots == 4 && p.tile_state.words > 0 && !p.tile_state.shared; }},
      {{30, 120, 120, 1},
       4,
       "the tile-state buffer in shared memory, 4 register slots",
       [](const FusedPlan& p) {
         return p.state_slots == 4 && p.tile_state.words > 0 && p.tile_state.shared && p.fully_shared();
       }},
      {{30, 60, 60, 1},
       4,
       "2 register slots, everything in shared memory",
       [](const FusedPlan& p) { return p.state_slots == 2 && p.tile_state.words == 0 && p.fully_shared(); }},
      {{7, 11, 5, 1},
       4,
       "1 register slot, everything in shared memory",
       [](const FusedPlan& p) { return p.state_slots == 1 && p.fully_shared(); }},
  };
  for (const Case& c : cases) {
    const ParameterLayout layout(c.widths);
    PackSpec spec{layout, c.batch, {}};
    for (int i = 0; i < 3; ++i) {
      PackMember m;
      m.activation = i == 0 ? Activation::ReLU : (i == 1 ? Activation::Tanh : Activation::Softmax);
      m.optimizer = Optimizer::Adam;
      m.dropout = i == 1 ? 0.2 : 0.0;
      m.learning_rate = 0.002;
      m.max_epochs = 1;
      m.seed = 5400 + static_cast<std::uint64_t>(i);
      spec.members.push_back(m);
    }
    EXPECT_TRUE(c.placed(plan_fused_training(layout, c.batch, true, true, kH100SharedBytesPerBlock))) << c.what;
    const Dataset train = linear_rule_dataset(c.batch + 3, c.widths.front(), 55);
    const Dataset test = linear_rule_dataset(c.batch / 4 + 3, c.widths.front(), 56);
    const PackRuns run = train_both(spec, train, EvaluationSets{&test, nullptr}, PackOptions{});
    expect_agreement(compare(spec, run.gpu, run.cpu), c.what);
    EXPECT_EQ(run.path.epochs, 1) << c.what;
    EXPECT_EQ(run.path.primitive_calls, 0) << c.what;
  }
}

// ---- Training state between epochs ----

// Every optimizer twice (the second time with dropout), PReLU, Tanh and RReLU, L1 on some: a
// 9-13-6-1 pack of batch 16 whose networks train `epochs` epochs.
PackSpec every_optimizer_pack(int epochs, std::uint64_t seed) {
  PackSpec spec{ParameterLayout({9, 13, 6, 1}), 16, {}};
  for (int i = 0; i < 2 * kOptimizerCount; ++i) {
    PackMember m;
    m.optimizer = static_cast<Optimizer>(i % kOptimizerCount);
    m.activation = i % 3 == 0 ? Activation::PReLU : (i % 3 == 1 ? Activation::Tanh : Activation::RReLU);
    m.learning_rate = m.optimizer == Optimizer::Adadelta ? 0.5 : 0.01;
    m.dropout = i >= kOptimizerCount ? 0.2 : 0.0;
    m.l1 = i % 4 == 1 ? 1e-4 : 0.0;
    m.max_epochs = epochs;
    m.seed = seed + static_cast<std::uint64_t>(i);
    spec.members.push_back(m);
  }
  return spec;
}

// Successive halving reads each network's parameters and optimizer state between epochs and
// continues them elsewhere: the fused kernel keeps the state in registers during an epoch, so it
// must load it from the workspace's state1/state2 at the epoch's start and store it back at its
// end (zero where an optimizer has no such state, as the CPU backend keeps it). Two epochs, the
// state moved to a fresh workspace, a third epoch there: bit for bit the three epochs of one
// workspace. Without the state the third epoch comes out otherwise (the check can fail).
TEST_F(FusedPath, TrainingStateBetweenEpochsContinuesInAFreshWorkspace) {
  PackSpec spec = every_optimizer_pack(3, 6100);
  const Dataset train = linear_rule_dataset(100, 9, 61);  // 6 x 16 + 4: a partial last batch
  const RowsView rows{train.rows, train.features, train.x.data(), train.y.data()};
  const std::size_t floats = static_cast<std::size_t>(spec.models()) * spec.layout.size;
  std::vector<float> initial(floats, 0.0f);
  SplitMix64 random(62);
  for (int m = 0; m < spec.models(); ++m) {
    float* p = initial.data() + static_cast<std::size_t>(m) * spec.layout.size;
    for (std::size_t i = 0; i < spec.layout.used; ++i)
      p[i] = static_cast<float>(random.below(1u << 20)) / (1u << 21) - 0.25f;
    p[spec.layout.prelu_offset] = 0.25f;
  }
  const int steps = steps_per_epoch(train.rows, spec.batch_size);
  std::unique_ptr<Backend> backend = make_gpu_backend();
  const auto train_epochs = [&](PackWorkspace& ws, int from, int to) {
    for (int epoch = from; epoch < to; ++epoch) {
      const EpochRequest request{epoch, static_cast<std::uint64_t>(epoch) * static_cast<std::uint64_t>(steps), true,
                                 17};
      ASSERT_TRUE(ws.train_epoch(request)) << "the fused path takes whole epochs";
    }
  };
  const auto parameters_of = [&](PackWorkspace& ws) {
    std::vector<float> p(floats);
    ws.read_parameters(p.data());
    return p;
  };

  std::unique_ptr<PackWorkspace> whole = backend->create_workspace(spec, workspace_rows(16, train.rows, 0));
  whole->write_parameters(initial.data());
  ASSERT_TRUE(whole->load_training_rows(rows));
  train_epochs(*whole, 0, 3);
  const std::vector<float> three_epochs = parameters_of(*whole);

  std::unique_ptr<PackWorkspace> first = backend->create_workspace(spec, workspace_rows(16, train.rows, 0));
  first->write_parameters(initial.data());
  ASSERT_TRUE(first->load_training_rows(rows));
  train_epochs(*first, 0, 2);
  std::vector<float> two_epochs(floats), state1(floats), state2(floats);
  first->read_training_state(two_epochs.data(), state1.data(), state2.data());
  for (int m = 0; m < spec.models(); ++m) {
    const std::size_t begin = static_cast<std::size_t>(m) * spec.layout.size, end = begin + spec.layout.size;
    const auto nonzero = [&](const std::vector<float>& s) {
      return std::count_if(s.begin() + static_cast<std::ptrdiff_t>(begin), s.begin() + static_cast<std::ptrdiff_t>(end),
                           [](float v) { return v != 0.0f; });
    };
    const int count = optimizer_state_count(spec.members[static_cast<std::size_t>(m)].optimizer);
    SCOPED_TRACE(kOptimizerNames[static_cast<int>(spec.members[static_cast<std::size_t>(m)].optimizer)]);
    EXPECT_EQ(nonzero(state1) > 0, count >= 1) << "network " << m << ": a first state where the optimizer has one";
    EXPECT_EQ(nonzero(state2) > 0, count >= 2) << "network " << m << ": a second state where the optimizer has one";
  }

  std::unique_ptr<PackWorkspace> fresh = backend->create_workspace(spec, workspace_rows(16, train.rows, 0));
  fresh->write_training_state(two_epochs.data(), state1.data(), state2.data());
  ASSERT_TRUE(fresh->load_training_rows(rows));
  train_epochs(*fresh, 2, 3);
  const std::vector<float> continued = parameters_of(*fresh);
  for (int m = 0; m < spec.models(); ++m) {
    const std::size_t begin = static_cast<std::size_t>(m) * spec.layout.size;
    EXPECT_TRUE(std::equal(continued.begin() + static_cast<std::ptrdiff_t>(begin),
                           continued.begin() + static_cast<std::ptrdiff_t>(begin + spec.layout.size),
                           three_epochs.begin() + static_cast<std::ptrdiff_t>(begin)))
        << "network " << m << " ("
        << kOptimizerNames[static_cast<int>(spec.members[static_cast<std::size_t>(m)].optimizer)]
        << "): epoch 3 in a fresh workspace from the stored state, bit for bit as in one workspace";
  }

  std::unique_ptr<PackWorkspace> stateless = backend->create_workspace(spec, workspace_rows(16, train.rows, 0));
  stateless->write_parameters(two_epochs.data());
  ASSERT_TRUE(stateless->load_training_rows(rows));
  train_epochs(*stateless, 2, 3);
  EXPECT_NE(parameters_of(*stateless), three_epochs) << "the state matters: without it epoch 3 differs";
}

}  // namespace
}  // namespace hf

namespace hf {
namespace {

// ---- Epochs split into launches ----

// The cost model's launch plan: a launch within kLaunchTargetSeconds (with the model's margin),
// counting waves, and never fewer than one step or more than an epoch.
TEST(LaunchPlan, StepsPerLaunchKeepALaunchWithinItsTimeCountingWaves) {
  // 45,000 cycles a step, 768 networks on 132 SMs (6 waves) at 1.98 GHz: 6 x 45,000 x 3 cycles a
  // step with the margin, 409 us; 0.1 s holds 244 of them.
  EXPECT_EQ(planned_steps_per_launch(45000.0, 768, 132, 1.98, 100000), 244);
  EXPECT_EQ(planned_steps_per_launch(45000.0, 768, 132, 1.98, 200), 200) << "at most an epoch";
  EXPECT_EQ(planned_steps_per_launch(45000.0, 132, 132, 1.98, 100000), 1466) << "one wave: 6x the steps";
  EXPECT_EQ(planned_steps_per_launch(1e9, 768, 132, 1.98, 100000), 1) << "at least one step";
  // A T4 (40 SMs at 1.59 GHz) runs the 768 networks in 20 waves.
  EXPECT_EQ(planned_steps_per_launch(45000.0, 768, 40, 1.59, 100000), 58);
  // The seed network's step (6 layers, batch 32, Adam) in the model, on an H100.
  const FusedPlan seed = plan_fused_training(ParameterLayout(seed_widths(false)), 32, true, false, kH100SharedBytesPerBlock);
  const double cycles = fused_step_cycles(seed, Activation::LeakyReLU, Optimizer::Adam, true).total();
  EXPECT_GT(cycles, 10000.0);
  const int steps = planned_steps_per_launch(cycles, 768, 132, 1.98, 3125);
  EXPECT_GT(steps, 50);
  EXPECT_LT(steps, 3125) << "a 100,000-row epoch of the seed grid's pack takes several launches";
}

// The same pack trained for two epochs (shuffled, a partial last batch) in one launch per epoch
// and in launches of 1, 2, 3 and 7 steps (7 = the whole epoch, asked for): parameters, optimizer
// states, loss sums and health bit for bit the same. Every optimizer, PReLU, RReLU and Tanh,
// dropout, L1, and a network that diverges in the middle of its first epoch (it trains on to
// the epoch's end in every split, as in one launch).
TEST_F(FusedPath, EpochsSplitIntoLaunchesGiveTheSameResultsBitForBit) {
  PackSpec spec = every_optimizer_pack(2, 6300);
  spec.members.push_back(testing::diverging_network(Activation::ReLU, Loss::MSE, 2, 6399));
  const Dataset train = linear_rule_dataset(100, 9, 63);  // 6 x 16 + 4: a partial last batch
  const RowsView rows{train.rows, train.features, train.x.data(), train.y.data()};
  const int steps = steps_per_epoch(train.rows, spec.batch_size);
  ASSERT_EQ(steps, 7);
  const std::size_t floats = static_cast<std::size_t>(spec.models()) * spec.layout.size;
  std::vector<float> initial(floats, 0.0f);
  SplitMix64 random(64);
  for (int m = 0; m < spec.models(); ++m) {
    float* p = initial.data() + static_cast<std::size_t>(m) * spec.layout.size;
    for (std::size_t i = 0; i < spec.layout.used; ++i)
      p[i] = static_cast<float>(random.below(1u << 20)) / (1u << 21) - 0.25f;
    p[spec.layout.prelu_offset] = 0.25f;
  }
  std::unique_ptr<Backend> backend = make_gpu_backend();

  struct Trained {
    std::vector<float> parameters, state1, state2;
    std::vector<double> loss_sums;  // epoch after epoch
    std::vector<std::int64_t> failed_at;
    std::uint64_t launches = 0;
  };
  const auto train_with = [&](int max_steps_per_launch) {
#if HYPERFUSE_CUDA_EMULATED
    const std::uint64_t launches_before = hf_emu::counters().fused_epoch_launches;
#endif
    std::unique_ptr<PackWorkspace> ws = backend->create_workspace(spec, workspace_rows(16, train.rows, 0));
    ws->write_parameters(initial.data());
    EXPECT_TRUE(ws->load_training_rows(rows));
    Trained t;
    for (int epoch = 0; epoch < 2; ++epoch) {
      EpochRequest request{epoch, static_cast<std::uint64_t>(epoch) * static_cast<std::uint64_t>(steps), true, 23};
      request.max_steps_per_launch = max_steps_per_launch;
      EXPECT_TRUE(ws->train_epoch(request));
      const std::vector<double> sums = ws->take_loss_sums();
      t.loss_sums.insert(t.loss_sums.end(), sums.begin(), sums.end());
    }
    t.parameters.resize(floats);
    t.state1.resize(floats);
    t.state2.resize(floats);
    ws->read_training_state(t.parameters.data(), t.state1.data(), t.state2.data());
    for (const NetworkHealth& h : ws->read_health()) t.failed_at.push_back(h.first_nonfinite_loss_step);
#if HYPERFUSE_CUDA_EMULATED
    t.launches = hf_emu::counters().fused_epoch_launches - launches_before;
#endif
    return t;
  };
  const Trained planned = train_with(0);
  ASSERT_GE(planned.failed_at.back(), 1) << "the diverging network fails after its first step";
  ASSERT_LT(planned.failed_at.back(), steps) << "... in its first epoch";
  // Bit for bit, NaN included (the diverging network's parameters and losses).
  const auto same_bits = [](const auto& a, const auto& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
  };
  for (int per_launch : {1, 2, 3, 7}) {
    SCOPED_TRACE(std::to_string(per_launch) + " steps per launch");
    const Trained split = train_with(per_launch);
    EXPECT_TRUE(same_bits(split.parameters, planned.parameters));
    EXPECT_TRUE(same_bits(split.state1, planned.state1));
    EXPECT_TRUE(same_bits(split.state2, planned.state2));
    EXPECT_TRUE(same_bits(split.loss_sums, planned.loss_sums));
    EXPECT_EQ(split.failed_at, planned.failed_at);
#if HYPERFUSE_CUDA_EMULATED
    EXPECT_EQ(split.launches, 2u * static_cast<std::uint64_t>((steps + per_launch - 1) / per_launch))
        << "two epochs of 7 steps in launches of at most " << per_launch;
#endif
  }
#if HYPERFUSE_CUDA_EMULATED
  EXPECT_EQ(planned.launches, 2u) << "planned: 7 small steps on the emulated H100 take one launch an epoch";
#endif
}

}  // namespace
}  // namespace hf
