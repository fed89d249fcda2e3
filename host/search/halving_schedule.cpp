#include "host/search/halving_schedule.hpp"

#include <cstdint>
#include <stdexcept>

namespace hf {

std::size_t candidates_kept(std::size_t candidates, int reduction_factor) {
  const auto eta = static_cast<std::size_t>(reduction_factor);
  return (candidates + eta - 1) / eta;
}

std::vector<HalvingRung> halving_rungs(int min_epochs, int max_epochs, int reduction_factor, std::size_t candidates) {
  if (min_epochs < 1 || max_epochs < min_epochs || reduction_factor < 2)
    throw std::invalid_argument("halving_rungs: needs 1 <= min_epochs <= max_epochs and reduction_factor >= 2");
  // s cuts: the largest s with min * eta^(s - 1/2) <= max, i.e. min^2 eta^(2s - 1) <= max^2
  // (log(max / min) / log(eta) rounded half up), in integers so every platform agrees.
  const auto eta = static_cast<std::uint64_t>(reduction_factor);
  const auto min = static_cast<std::uint64_t>(min_epochs);
  const std::uint64_t max_squared = static_cast<std::uint64_t>(max_epochs) * static_cast<std::uint64_t>(max_epochs);
  int cuts = 0;
  std::uint64_t power = min * min * eta;  // min^2 eta^(2s - 1) for s = cuts + 1
  while (power <= max_squared) {
    ++cuts;
    if (power > max_squared / (eta * eta)) break;
    power *= eta * eta;
  }
  std::vector<HalvingRung> rungs;
  std::uint64_t epochs = min;
  std::size_t count = candidates;
  for (int k = 0; k < cuts; ++k) {
    rungs.push_back({static_cast<int>(epochs), count});
    epochs *= eta;
    count = candidates_kept(count, reduction_factor);
  }
  rungs.push_back({max_epochs, count});
  return rungs;
}

}  // namespace hf
