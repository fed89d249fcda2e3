#include "host/scoring/training_result.hpp"

namespace hf {

PrecisionTest training_score(const TrainingOutcome& outcome) {
  return outcome.failed ? PrecisionTest{} : precision_p_value(outcome.counts);
}

TrainingResult without_parameters(TrainingResult result) {
  std::vector<float>().swap(result.outcome.parameters);
  result.outcome.state = TrainingState();
  return result;
}

}  // namespace hf
