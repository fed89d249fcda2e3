// A network's training stopped after some epochs, kept so that training can continue later
// (in another workspace, another process or another run) exactly as if it had never stopped:
// what successive halving carries from one rung to the next.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hf {

struct TrainingState {
  int epochs = 0;           // epochs trained
  std::uint64_t steps = 0;  // optimizer steps taken: the step counter training continues from
  // The workspace's state (PackWorkspace::read_training_state), layout.size floats each.
  std::vector<float> parameters, first_state, second_state;
  std::vector<double> epoch_losses;  // the mean training loss of each epoch trained, in order

  bool empty() const { return parameters.empty(); }
};

// The state as bytes (for the study journal and MPI messages) and back. from_bytes throws
// std::runtime_error for bytes that are not a whole state.
std::string training_state_bytes(const TrainingState& state);
TrainingState training_state_from_bytes(const std::string& bytes);

}  // namespace hf
