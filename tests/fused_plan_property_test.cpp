// Properties of the fused kernels' plan (kernels/cuda/fused_plan.*) over many layouts, every batch
// size from 1 to 130, activations with and without row buffers, dropout on and off, and the
// shared-memory limit of every device profile: each buffer is as large as the layout in
// fused_plan.hpp says the kernel reads and writes (padding included), no two buffers of one memory
// overlap, each starts on a 16-byte boundary (float4 loads), and the whole fits the limit.
// Plain C++: runs in every build.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/fused_plan.hpp"
#include "kernels/math/codes.hpp"

namespace hf {
namespace {

// The dynamic shared memory one block may take, in KiB, on the devices the emulation's profiles
// model (T4, RTX 4090 / A10-class, A100, H100 / H200 and the smallest default without
// cudaFuncSetAttribute): the plan must be valid at each of them.
const std::vector<std::size_t> kDeviceSharedLimitsKiB = {48, 64, 99, 163, 227};

// One activation of each kind the plan distinguishes: element-wise (no row buffers) and the three
// that mix a row (Softmin, Softmax, LogSoftmax: row buffers).
const std::vector<Activation> kActivations = {Activation::ReLU, Activation::Softmin, Activation::Softmax,
                                              Activation::LogSoftmax};

int round_up4(int n) { return (n + 3) / 4 * 4; }

struct Buffer {
  std::string name;
  FusedPlacement placement;
  std::size_t needed_words;  // what the kernel touches, from the layout in fused_plan.hpp
};

// Every buffer of the plan with the words the kernel needs in it, derived from the layout and the
// plan's stride, not from the plan's own sizes.
std::vector<Buffer> buffers_of(const FusedPlan& plan, bool dropout, bool row_activation) {
  const auto stride = static_cast<std::size_t>(plan.stride);
  const std::size_t layers = plan.layers.size();
  std::vector<Buffer> all;
  all.push_back({"reductions", plan.reductions, static_cast<std::size_t>(kFusedReductionWords)});
  all.push_back({"labels", plan.labels, static_cast<std::size_t>(plan.columns)});
  all.push_back({"loss_terms", plan.loss_terms, static_cast<std::size_t>(plan.columns)});
  const std::size_t batch_words = static_cast<std::size_t>(round_up4(plan.layers.front().in)) * stride;
  all.push_back({"batch_x[0]", plan.batch_x[0], batch_words});
  all.push_back({"batch_x[1]", plan.batch_x[1], batch_words});
  int biases = 0, widest_hidden = 0, weight_tiles = 0;
  for (std::size_t l = 0; l < layers; ++l) {
    const FusedLayerPlan& p = plan.layers[l];
    const std::string layer = "layer " + std::to_string(l) + " ";
    const auto in4 = static_cast<std::size_t>(round_up4(p.in)), out4 = static_cast<std::size_t>(round_up4(p.out));
    const bool hidden = l + 1 < layers;
    all.push_back({layer + "weights", p.weights, out4 * in4});
    all.push_back({layer + "biases", p.biases, out4});
    all.push_back({layer + "pre_activation", p.pre_activation, out4 * stride});
    all.push_back({layer + "output", p.output, hidden ? out4 * stride : 0});
    const std::size_t mask_bits = static_cast<std::size_t>(plan.batch) * p.out;
    all.push_back({layer + "mask", p.mask, hidden && dropout ? (mask_bits + 31) / 32 : 0});
    biases += p.out;
    weight_tiles += static_cast<int>(out4 / 4 * in4 / 4);
    if (hidden) widest_hidden = std::max(widest_hidden, static_cast<int>(out4));
  }
  const std::size_t row_words = row_activation && layers > 1 ? static_cast<std::size_t>(widest_hidden) * stride : 0;
  all.push_back({"row_gradient", plan.row_gradient, row_words});
  all.push_back({"row_activation", plan.row_activation, row_words});
  all.push_back({"bias_state", plan.bias_state, 2 * static_cast<std::size_t>(biases)});
  const int tiles_per_thread = (weight_tiles + kFusedThreads - 1) / kFusedThreads;
  const int spilled = std::max(tiles_per_thread - plan.state_slots, 0);
  all.push_back({"tile_state", plan.tile_state, static_cast<std::size_t>(spilled) * 32 * kFusedThreads});
  return all;
}

// What is wrong with `plan` for a pack with `dropout` and `row_activation` under a shared-memory
// `limit` in bytes: one line per broken property, naming the buffers.
std::vector<std::string> plan_problems(const FusedPlan& plan, int batch, bool dropout, bool row_activation,
                                       std::size_t limit) {
  std::vector<std::string> problems;
  const auto fail = [&](const std::string& what) { problems.push_back(what); };
  if (plan.columns < batch || plan.stride < plan.columns) fail("the stride is shorter than the batch");
  if (plan.stride % 4 != 0) fail("rows of Z, OUT and the batch do not start on 16-byte boundaries");
  if (plan.stride / 4 % 2 != 1) fail("rows are not an odd number of 16-byte groups apart (bank groups)");
  if (plan.shared_bytes() > limit)
    fail("the block's " + std::to_string(plan.shared_bytes()) + " bytes of shared memory exceed the limit");
  if (plan.shared_words % 4 != 0 || plan.global_words_per_network % 4 != 0)
    fail("a network's shared memory or scratch is not a whole number of 16-byte groups");
  if (!plan.reductions.shared) fail("the bookkeeping is not in shared memory");

  struct Range {
    std::size_t begin, end;
    std::string name;
  };
  std::vector<Range> shared, global;
  for (const Buffer& b : buffers_of(plan, dropout, row_activation)) {
    const FusedPlacement& p = b.placement;
    if (b.needed_words == 0) continue;  // a buffer the pack does not use may be empty or not
    if (p.words < b.needed_words)
      fail(b.name + " has " + std::to_string(p.words) + " words, but the kernel touches " +
           std::to_string(b.needed_words));
    if (p.offset % 4 != 0) fail(b.name + " is not 16-byte aligned for float4 loads");
    // The range the kernel may touch: the placement, or what the kernel needs if that is more.
    const std::size_t end = p.offset + std::max(p.words, b.needed_words);
    if (end > (p.shared ? plan.shared_words : plan.global_words_per_network))
      fail(b.name + " runs past the end of the " + (p.shared ? "block's shared memory" : "network's scratch"));
    (p.shared ? shared : global).push_back({p.offset, end, b.name});
  }
  for (std::vector<Range>* ranges : {&shared, &global}) {
    std::sort(ranges->begin(), ranges->end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
    for (std::size_t i = 1; i < ranges->size(); ++i) {
      const Range& a = (*ranges)[i - 1];
      const Range& b = (*ranges)[i];
      if (a.end > b.begin)
        fail(a.name + " (words " + std::to_string(a.begin) + " to " + std::to_string(a.end) + ") overlaps " + b.name +
             " (words " + std::to_string(b.begin) + " to " + std::to_string(b.end) + ") in " +
             (ranges == &shared ? "shared memory" : "global scratch"));
    }
  }
  return problems;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += "\n  " + line;
  return text;
}

// Layouts: the seed networks, small odd ones, a 1-wide hidden layer, wide ones whose weights spill
// to global scratch, and random ones (seeded) of 2 to 7 layers.
std::vector<ParameterLayout> layouts() {
  std::vector<std::vector<int>> widths = {{30, 60, 90, 60, 30, 15, 1},
                                          {30, 60, 90, 60, 30, 15, 8, 1},
                                          {1, 1},
                                          {5, 7, 1},
                                          {7, 11, 5, 1},
                                          {3, 1, 1},
                                          {13, 5, 6, 7, 1},
                                          {8, 200, 300, 1},
                                          {64, 128, 160, 1},
                                          {784, 33, 1}};
  std::mt19937 random(24);
  for (int i = 0; i < 14; ++i) {
    std::vector<int> w{std::uniform_int_distribution<int>(1, 300)(random)};
    const int hidden = std::uniform_int_distribution<int>(1, 6)(random);
    for (int h = 0; h < hidden; ++h) w.push_back(std::uniform_int_distribution<int>(1, 130)(random));
    w.push_back(1);
    widths.push_back(w);
  }
  std::vector<ParameterLayout> result;
  for (const std::vector<int>& w : widths) result.emplace_back(w);
  return result;
}

TEST(FusedPlanProperty, BuffersAreDisjointAlignedAndFitEveryDeviceAtEveryBatchSize) {
  int plans = 0;
  for (const ParameterLayout& layout : layouts()) {
    std::string layout_text = std::to_string(layout.in(0));
    for (int l = 0; l < layout.layers(); ++l) layout_text += "-" + std::to_string(layout.out(l));
    for (std::size_t limit_kib : kDeviceSharedLimitsKiB)
      for (bool dropout : {false, true})
        for (Activation activation : kActivations)
          for (int batch = 1; batch <= 130; ++batch) {
            const bool rows = is_row_activation(activation);
            const FusedPlan plan = plan_fused_training(layout, batch, dropout, rows, limit_kib * 1024);
            ASSERT_EQ(plan.layers.size(), static_cast<std::size_t>(layout.layers()));
            const std::vector<std::string> problems = plan_problems(plan, batch, dropout, rows, limit_kib * 1024);
            ASSERT_TRUE(problems.empty())
                << "layout " << layout_text << ", batch " << batch << ", dropout " << (dropout ? "on" : "off") << ", "
                << kActivationNames[static_cast<int>(activation)] << ", " << limit_kib
                << " KiB of shared memory:" << joined(problems);
            ++plans;
          }
  }
  EXPECT_EQ(plans, 24 * 5 * 2 * 4 * 130);
}

// The check sees each class of plan bug it is there for, in a plan altered by hand: a buffer
// that lost its padding rows (it overlaps the next one and is smaller than the kernel's reach),
// a misaligned buffer, two buffers at one place, and a plan over the device's limit.
TEST(FusedPlanProperty, TheCheckNamesEachKindOfBrokenPlan) {
  const ParameterLayout layout({9, 13, 6, 1});
  const int batch = 37;
  const std::size_t limit = 227 * 1024;
  const FusedPlan plan = plan_fused_training(layout, batch, true, true, limit);
  ASSERT_TRUE(plan_problems(plan, batch, true, true, limit).empty())
      << joined(plan_problems(plan, batch, true, true, limit));
  const auto has = [](const std::vector<std::string>& problems, const std::string& text) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  };

  FusedPlan unpadded = plan;  // Z of layer 0 with 13 rows instead of 16: the padding rows are elsewhere
  unpadded.layers[0].pre_activation.words = static_cast<std::size_t>(13) * static_cast<std::size_t>(plan.stride);
  EXPECT_TRUE(has(plan_problems(unpadded, batch, true, true, limit), "layer 0 pre_activation has"));

  FusedPlan misaligned = plan;
  misaligned.layers[1].biases.offset += 2;
  EXPECT_TRUE(has(plan_problems(misaligned, batch, true, true, limit), "layer 1 biases is not 16-byte aligned"));

  FusedPlan overlapping = plan;
  overlapping.batch_x[1].offset = overlapping.batch_x[0].offset + 4;
  EXPECT_TRUE(has(plan_problems(overlapping, batch, true, true, limit), "overlaps"));

  EXPECT_TRUE(has(plan_problems(plan, batch, true, true, plan.shared_bytes() - 16), "exceed the limit"));
}

}  // namespace
}  // namespace hf
