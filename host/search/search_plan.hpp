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
  // Identifies the combination: its position in the full grid, or with ranges its draw number
  // (search_space.hpp). Its trainings' seeds come from it.
  std::uint64_t number = 0;
  std::vector<int> values;  // value index per axis of SearchPlan::axes
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
  // Epochs the members trained before (successive halving's later rungs): they continue from
  // their stored training states to the members' max_epochs. 0: from the initial weights.
  int first_epoch = 0;
};

struct SearchPlan {
  // The axes the combinations' value indices point into: the config's, with each range
  // replaced by the values drawn from it (draw d's value at index d).
  std::vector<HyperparameterAxis> axes;
  std::vector<PlannedCombination> combinations;
  std::vector<PlannedTraining> trainings;
  std::vector<PlannedPack> packs;  // longest first, so the last packs to finish are short
  double total_flops = 0.0;
};

// Combination c's value of axis `axis`: as the config wrote it, or as it was drawn.
inline const HyperparameterValue& value_of(const SearchPlan& plan, const PlannedCombination& c, std::size_t axis) {
  return plan.axes[axis].values[static_cast<std::size_t>(c.values[axis])];
}

// The most networks a pack of this layout and batch size may hold (at least 1).
using PackSizeRule = std::function<int(const ParameterLayout& layout, int batch_size)>;

// What packs are planned for: the data's shape and the rule that sizes packs.
struct PackPlanning {
  int input_width = 0;
  int train_rows = 0;
  int evaluated_rows = 0;  // every row a training is evaluated on (validation and test)
  PackSizeRule max_pack_size;
};

// Trainings join a pack when they share layer widths, batch size and data order, up to
// max_pack_size networks per pack. With halving, the plan's packs are its first rung's: every
// candidate's trainings, for the first rung's epochs.
SearchPlan plan_search(const SearchSettings& search, const PackPlanning& planning);
SearchPlan plan_search(const SearchSettings& search, int input_width, int train_rows, int test_rows, int max_pack_size);
SearchPlan plan_search(const SearchSettings& search, int input_width, int train_rows, int test_rows,
                       const PackSizeRule& max_pack_size);

// Packs for some of a plan's trainings (indices into plan.trainings, in that order), each
// trained from `first_epoch` to `last_epoch` (a rung of halving), or with last_epoch 0 from the
// initial weights to its combination's max_epochs. Longest first; their options keep no state.
std::vector<PlannedPack> plan_packs(const SearchSettings& search, const SearchPlan& plan,
                                    const std::vector<std::size_t>& trainings, const PackPlanning& planning,
                                    int first_epoch, int last_epoch);

}  // namespace hf
