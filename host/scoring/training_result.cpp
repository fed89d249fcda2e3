#include "host/scoring/training_result.hpp"

namespace hf {

PrecisionTest training_score(const TrainingOutcome& outcome) {
  return outcome.failed ? PrecisionTest{} : precision_p_value(outcome.counts);
}

}  // namespace hf
