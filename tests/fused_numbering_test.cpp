// The fused training kernel numbers batch rows, dropout draws and RReLU draws as the CPU trainer
// does, checked element by element rather than through final results: after a one-epoch run the
// emulation hands over what each block left in its shared memory (the last step's gathered rows
// and labels, each hidden layer's dropout bits and output), which is compared with the CPU
// trainer's staging of the same step and the CPU backend's forward pass on it. Batch sizes that are
// not multiples of 32, partial last batches with rows past 32, and shuffled orders. Learning rate 0
// keeps the weights at their initial values, so the CPU's pre-activations are the GPU's (up to
// the GEMMs' summation order) and the RReLU slopes can be read off the outputs. Emulated build
// only: a GPU does not hand over its shared memory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <ostream>
#include <string>
#include <vector>

#include "host/training/pack_trainer.hpp"
#include "host/training/weight_init.hpp"
#include "kernels/backend_registry.hpp"
#include "kernels/cuda/fused_plan.hpp"
#include "kernels/math/dropout.hpp"
#include "tests/gpu_available.hpp"
#include "tests/linear_rule_dataset.hpp"

#if HYPERFUSE_CUDA_EMULATED
#include "tests/cuda_emulation/emulation_control.hpp"

namespace hf {
namespace {

struct NumberingCase {
  int batch;
  int rows;
  bool shuffle;
};

std::string describe(const NumberingCase& c) {
  return "batch " + std::to_string(c.batch) + ", " + std::to_string(c.rows) + " rows" +
         (c.shuffle ? ", shuffled" : ", in file order");
}

void PrintTo(const NumberingCase& c, std::ostream* os) { *os << describe(c); }

// The last step of epoch 0 as the CPU trainer stages it (pack_trainer.cpp's train_epoch).
struct StagedStep {
  std::uint64_t step = 0;
  int rows = 0;
  std::vector<float> x, y;
};

StagedStep stage_last_step(const Dataset& train, const NumberingCase& c, std::uint64_t order_seed) {
  StagedStep s;
  const int steps = steps_per_epoch(train.rows, c.batch);
  const int start = (steps - 1) * c.batch;
  s.step = static_cast<std::uint64_t>(steps - 1);
  s.rows = train.rows - start;
  std::vector<int> order(train.rows);
  std::iota(order.begin(), order.end(), 0);
  if (c.shuffle) order = shuffled_order(train.rows, order_seed, 0);
  for (int r = 0; r < s.rows; ++r) {
    const int source = order[start + r];
    s.x.insert(s.x.end(), train.row(source), train.row(source) + train.features);
    s.y.push_back(train.y[source]);
  }
  return s;
}

class FusedNumbering : public ::testing::TestWithParam<NumberingCase> {};

TEST_P(FusedNumbering, GatheredRowsDropoutBitsAndRreluDrawsMatchTheCpuTrainer) {
  HF_SKIP_UNLESS_GPU_VISIBLE("the fused kernel runs on the emulated GPU");
  const NumberingCase c = GetParam();
  constexpr int kFeatures = 7;
  constexpr std::uint64_t kOrderSeed = 5;
  const Dataset train = testing::linear_rule_dataset(c.rows, kFeatures, 24);
  const Dataset test = testing::linear_rule_dataset(16, kFeatures, 25);
  PackSpec spec{ParameterLayout({kFeatures, 13, 6, 1}), c.batch, {}};
  for (int m = 0; m < 2; ++m) {
    PackMember member;
    member.activation = Activation::RReLU;
    member.optimizer = Optimizer::SGD;
    member.learning_rate = 0.0;
    member.dropout = m == 0 ? 0.3 : 0.5;
    member.seed = 11 + static_cast<std::uint64_t>(m);
    spec.members.push_back(member);
  }
  PackOptions options;
  options.shuffle = c.shuffle;
  options.order_seed = kOrderSeed;

  std::unique_ptr<Backend> gpu = testing::make_gpu_backend();
  ASSERT_NE(gpu, nullptr);
  hf_emu::capture_shared_memory("fused_epoch_kernel");
  const std::vector<TrainingOutcome> outcomes = train_pack(*gpu, spec, train, test, options);
  hf_emu::capture_shared_memory("");
  const std::vector<std::vector<unsigned char>> blocks = hf_emu::captured_shared_memory();
  ASSERT_EQ(blocks.size(), 2u) << "one block per network of the fused epoch kernel";

  // The plan the CUDA backend uses for this pack on this device (dropout, no row activation):
  // every buffer read here lies in shared memory.
  const std::size_t shared_limit = testing::gpu_backend_entry()->device_memory(0).limits.shared_bytes_per_block;
  const FusedPlan plan = plan_fused_training(spec.layout, c.batch, true, false, shared_limit);
  ASSERT_TRUE(plan.fully_shared());
  ASSERT_EQ(blocks[0].size(), plan.shared_bytes());

  // The CPU trainer's last step: its staged rows, and the CPU backend's forward pass on them
  // with the same (initial) parameters.
  const StagedStep staged = stage_last_step(train, c, kOrderSeed);
  std::unique_ptr<Backend> cpu = find_backend("cpu")->make(0);
  std::unique_ptr<PackWorkspace> ws = cpu->create_workspace(spec, c.batch);
  std::vector<float> parameters(2 * spec.layout.size);
  for (int m = 0; m < 2; ++m) {
    ASSERT_FALSE(outcomes[m].failed);
    initialize_parameters(spec.layout, spec.members[m].weight_init, false, spec.members[m].seed,
                          parameters.data() + m * spec.layout.size);
  }
  ws->write_parameters(parameters.data());
  ws->load_batch(staged.x.data(), staged.y.data(), staged.rows);
  const std::vector<std::uint8_t> active(2, 1);
  forward_pass(*ws, spec.layout.layers(), StepInfo{staged.step, staged.rows, Mode::Training, active.data()});

  const auto stride = static_cast<std::size_t>(plan.stride);
  int slopes_compared = 0, dropped = 0;
  for (int m = 0; m < 2; ++m) {
    SCOPED_TRACE(describe(c) + ", network " + std::to_string(m));
    std::vector<float> shared(blocks[m].size() / 4);
    std::memcpy(shared.data(), blocks[m].data(), shared.size() * 4);
    // Gathered rows and labels of the last step, feature-major, zero past its rows.
    const float* x = shared.data() + plan.batch_x[staged.step % 2].offset;
    const float* labels = shared.data() + plan.labels.offset;
    for (int r = 0; r < plan.columns; ++r) {
      for (int i = 0; i < kFeatures; ++i) {
        const float expected = r < staged.rows ? staged.x[static_cast<std::size_t>(r) * kFeatures + i] : 0.0f;
        ASSERT_EQ(x[i * stride + r], expected) << "batch row " << r << ", feature " << i;
      }
      ASSERT_EQ(labels[r], r < staged.rows ? staged.y[r] : 0.0f) << "label of batch row " << r;
    }
    // Each hidden layer: the dropout bit and the RReLU slope of every element.
    const float keep_scale = dropout_keep_scale(spec.members[m].dropout);
    for (int l = 0; l + 1 < spec.layout.layers(); ++l) {
      const int out = spec.layout.out(l);
      const std::size_t count = static_cast<std::size_t>(staged.rows) * out;
      std::vector<float> z(2 * count), activation(2 * count), output(2 * count);
      ws->read_layer(l, LayerBuffer::PreActivation, staged.rows, z.data());
      ws->read_layer(l, LayerBuffer::Activation, staged.rows, activation.data());
      ws->read_layer(l, LayerBuffer::Output, staged.rows, output.data());
      const FusedLayerPlan& p = plan.layers[l];
      const auto* mask = reinterpret_cast<const std::uint32_t*>(shared.data() + p.mask.offset);
      const float* gpu_output = shared.data() + p.output.offset;
      for (int r = 0; r < staged.rows; ++r) {
        for (int o = 0; o < out; ++o) {
          const std::size_t e = static_cast<std::size_t>(r) * out + o, at = m * count + e;
          ASSERT_NE(activation[at], 0.0f) << "an RReLU output of 0 would hide the dropout decision";
          const bool cpu_keeps = output[at] != 0.0f;
          const bool gpu_keeps = (mask[e / 32] >> (e % 32)) & 1u;
          ASSERT_EQ(gpu_keeps, cpu_keeps)
              << "dropout bit of layer " << l << ", batch row " << r << ", unit " << o << " (element " << e << ")";
          dropped += !cpu_keeps;
          const float kept_output = gpu_output[o * stride + r];
          ASSERT_EQ(kept_output == 0.0f, !cpu_keeps) << "layer " << l << " output, batch row " << r << ", unit " << o;
          if (!cpu_keeps || z[at] > -0.05f) continue;
          // Negative pre-activation: the output is slope * z (times the keep scale).
          const double cpu_slope = activation[at] / static_cast<double>(z[at]);
          const double gpu_slope = kept_output / (static_cast<double>(keep_scale) * z[at]);
          ASSERT_NEAR(gpu_slope, cpu_slope, 1e-3 * cpu_slope)
              << "RReLU slope of layer " << l << ", batch row " << r << ", unit " << o << " (element " << e << ")";
          ++slopes_compared;
        }
      }
    }
  }
  EXPECT_GE(slopes_compared, 10) << "enough negative pre-activations to compare RReLU draws";
  EXPECT_GE(dropped, 10) << "enough dropped units to compare dropout bits";
}

INSTANTIATE_TEST_SUITE_P(Shapes, FusedNumbering,
                         ::testing::Values(NumberingCase{37, 109, true},  // last batch 35 rows, shuffled
                                           NumberingCase{50, 97, false},  // last batch 47 rows, file order
                                           NumberingCase{33, 33, true},   // one full batch of 33
                                           NumberingCase{64, 127, true},  // batch 64, last batch 63 rows
                                           NumberingCase{5, 12, false}),  // last batch 2 rows
                         [](const ::testing::TestParamInfo<NumberingCase>& shape) {
                           const NumberingCase& c = shape.param;
                           return "Batch" + std::to_string(c.batch) + "Rows" + std::to_string(c.rows) +
                                  (c.shuffle ? "Shuffled" : "InFileOrder");
                         });  // last batch 2 rows

}  // namespace
}  // namespace hf

#endif  // HYPERFUSE_CUDA_EMULATED
