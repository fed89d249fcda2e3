// What one training came to: done or not, its outcome on the test set, its score and the backend
// that trained it. Made in three places (trained here, read back from the journal, received from
// an MPI worker), each scoring it with training_score.
#pragma once

#include <string>

#include "host/scoring/precision_p_value.hpp"
#include "host/training/pack_trainer.hpp"

namespace hf {

struct TrainingResult {
  bool done = false;  // false: not trained (yet), e.g. the search was interrupted first
  TrainingOutcome outcome;
  PrecisionTest score;
  std::string device;  // the backend that trained it
};

// A training's score: its precision p-value, or the neutral 1.0 when it failed.
PrecisionTest training_score(const TrainingOutcome& outcome);

// The result without its network's parameters and training state: what ranking needs once the
// journal holds them, so a search of thousands of networks keeps none in memory.
TrainingResult without_parameters(TrainingResult result);

}  // namespace hf
