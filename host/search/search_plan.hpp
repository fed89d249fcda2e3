// Turns a config into work: the chosen combinations, one training per combination and rerun
// (each with its own seed), and packs of trainings that can step together.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "host/search/search_settings.hpp"
#include "host/training/pack_trainer.hpp"
#include "kernels/backend/pack_spec.hpp"

namespace hf {

struct PlannedCombination {
  std::uint64_t number = 0;  // position in the full grid: identifies the combination
  std::vector<int> values;   // value index per axis
  TrainingSettings settings;
};

struct PlannedTraining {
  std::size_t combination = 0;  // index into SearchPlan::combinations
  int rerun = 0;
  std::uint64_t seed = 0;
};

struct PlannedPack {
  PackSpec spec;
  PackOptions options;
  std::vector<std::size_t> trainings;  // index into SearchPlan::trainings, one per member
  double flops = 0.0;
};

struct SearchPlan {
  std::vector<PlannedCombination> combinations;
  std::vector<PlannedTraining> trainings;
  std::vector<PlannedPack> packs;  // longest first, so the last packs to finish are short
  double total_flops = 0.0;
};

// Trainings join a pack when they share layer widths, batch size and data order, up to
// max_pack_size networks per pack.
SearchPlan plan_search(const SearchSettings& search, int input_width, int train_rows, int test_rows, int max_pack_size);

// The most networks a pack of this layout and batch size may hold (at least 1).
using PackSizeRule = std::function<int(const ParameterLayout& layout, int batch_size)>;
SearchPlan plan_search(const SearchSettings& search, int input_width, int train_rows, int test_rows,
                       const PackSizeRule& max_pack_size);

}  // namespace hf
