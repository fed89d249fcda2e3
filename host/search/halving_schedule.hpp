// The rungs of successive halving: how long the candidates train before each cut, and how many
// reach each rung. Every candidate trains min_epochs; the best 1 / reduction_factor of them go
// on to reduction_factor x min_epochs, and so on; the last rung is max_epochs. The rung count is
// the one whose steps come nearest to reduction_factor on a log scale, so the step into the
// last rung lies between sqrt(reduction_factor) and reduction_factor^1.5 (docs/CONFIG.md).
#pragma once

#include <cstddef>
#include <vector>

namespace hf {

struct HalvingRung {
  int epochs = 0;              // epochs a candidate has trained when it is scored at this rung
  std::size_t candidates = 0;  // candidates that train it
};

// The rungs for `candidates` candidates (min_epochs <= max_epochs, reduction_factor >= 2).
// One rung of max_epochs when reduction_factor exceeds (max_epochs / min_epochs)^2: every
// candidate trains to the end, as in a grid.
std::vector<HalvingRung> halving_rungs(int min_epochs, int max_epochs, int reduction_factor, std::size_t candidates);

// How many of a rung's candidates go on to the next: ceil(candidates / reduction_factor).
std::size_t candidates_kept(std::size_t candidates, int reduction_factor);

}  // namespace hf
