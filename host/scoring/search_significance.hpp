// How significant is the best of a whole search? A Westfall-Young max-statistic permutation
// test: shuffle the ranking rows' labels many times; under each shuffle recount every trained
// network's confusion counts from its stored predicted positives, take each combination's
// median p-value and the best over the search. A combination's search p-value is the share of
// shuffles whose best is at least as good as its observed median: how often chance alone, over
// this many combinations, beats it. docs/SIGNIFICANCE.md explains it in plain words.
//
// No network is retrained. A network's predicted-positive count, the row count and the
// positive count do not change under a shuffle, so its p-value depends on its true positives
// alone: it is tabulated once per predicted-positive count and looked up thereafter.
#pragma once

#include <cstdint>
#include <vector>

#include "host/data/row_bitset.hpp"
#include "host/scoring/ranking.hpp"
#include "host/scoring/training_result.hpp"

namespace hf {

struct PermutationTest {
  int permutations = 1000;
  int block = 1;           // rows shuffled in blocks of this many consecutive rows (the last may be shorter)
  std::uint64_t seed = 0;  // the search seed: permutation i's shuffle comes from (seed, i) alone
  int threads = 1;         // any count gives the same result
};

struct CombinationSignificance {
  // The median over the reruns with the labels as they are, from the test's table of p-values
  // (equal to the ranking's median to about 1e-13).
  double observed_log10_p_value = 0.0;
  double search_p_value = 1.0;  // (1 + shuffles whose best <= observed) / (1 + shuffles)
};

// `combinations[c]` holds the predicted positives of combination c's reruns on the rows whose
// labels are `positives`. Returns one result per combination, in their order.
std::vector<CombinationSignificance> search_significance(const std::vector<std::vector<const RowBitset*>>& combinations,
                                                         const RowBitset& positives, const PermutationTest& test);

// Sets every ranked combination's search_p_value from its trainings' stored predictions on the
// ranking rows, whose labels are `ranking_labels`. Throws std::logic_error when a training's
// predictions do not reproduce its confusion counts (they always should).
void add_search_p_values(std::vector<RankedCombination>& ranked, const std::vector<TrainingResult>& results,
                         const std::vector<float>& ranking_labels, const PermutationTest& test);

// The same with more members of the search's family, whose medians enter the best of each
// shuffle but get no search p-value of their own: successive halving's earlier rungs, each a
// combination's reruns' predicted positives after that rung (docs/CONFIG.md says why).
void add_search_p_values(std::vector<RankedCombination>& ranked, const std::vector<TrainingResult>& results,
                         const std::vector<float>& ranking_labels, const PermutationTest& test,
                         const std::vector<std::vector<const RowBitset*>>& also_searched);

// The labels after permutation `index`'s shuffle: blocks of `block` consecutive rows in a
// random order drawn from (seed, index), each block's rows kept in their order.
RowBitset shuffled_labels(const RowBitset& positives, int block, std::uint64_t seed, int index);

}  // namespace hf
