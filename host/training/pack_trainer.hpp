// The training algorithm, written once for a pack of networks over the Backend primitives:
// initial weights from each network's seed, mini-batches in file order (or a shuffled order
// shared by the pack), forward, loss, backward, L1 term, optimizer step, then evaluation of
// every network on the set the search ranks on (and on the test set, when that is a different one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/data/row_bitset.hpp"
#include "host/data/standard_scaler.hpp"
#include "host/training/training_state.hpp"
#include "kernels/backend/backend.hpp"
#include "kernels/backend/confusion_counts.hpp"

namespace hf {

// Rows evaluated per batch; fixed so evaluation rounds identically everywhere.
inline constexpr int kEvaluationRows = 256;

// Rows a pack's workspace holds: a training batch or an evaluation batch, whichever is larger
// (and no more than the data has).
inline int workspace_rows(int batch_size, int train_rows, int test_rows) {
  const int batch = batch_size < train_rows ? batch_size : train_rows;
  const int evaluation = kEvaluationRows < test_rows ? kEvaluationRows : test_rows;
  return batch > evaluation ? batch : evaluation;
}

struct PackOptions {
  float prediction_threshold = 0.5f;
  bool shuffle = false;
  std::uint64_t order_seed = 0;  // with shuffle: every network of the pack sees this order
  bool keep_parameters = false;  // return each network's final parameters (to store the models)
  bool keep_state = false;       // return each network's full training state, to continue it later
};

// The rows every trained network is evaluated on.
struct EvaluationSets {
  const Dataset* ranking = nullptr;  // the search ranks on these: the validation rows, or the test rows
  const Dataset* test = nullptr;     // with validation rows: the test rows, reported only; else null
  // The most rows evaluated in one go, for the workspace size.
  int rows() const { return test && test->rows > ranking->rows ? test->rows : ranking->rows; }
};

struct TrainingOutcome {
  ConfusionCounts counts;         // on the ranking set
  ConfusionCounts test_counts;    // on the test set, when it is not the ranking set
  RowBitset predicted_positives;  // on the ranking set, one bit per row (empty when failed)
  bool failed = false;
  std::string error;     // why the training failed, for errors.csv
  double seconds = 0.0;  // this network's share of the pack's wall time
  // The mean training loss (with its L1 term) over each epoch's steps, one per epoch trained.
  std::vector<double> epoch_losses;
  // The final parameters (layout.used floats, ParameterLayout's order) when the pack options
  // keep them and the training did not fail; empty otherwise.
  std::vector<float> parameters;
  // The full training state after the last epoch (parameters, optimizer states, steps, epoch
  // losses) when the pack options keep it and the training did not fail; empty otherwise.
  TrainingState state;
};

// Trains every member from epoch 0 to its max_epochs. With `start` (one state per member, all
// after the same number of epochs), training continues from those states instead of the
// initial weights: the same data order, dropout masks, RReLU slopes and optimizer steps as a
// training that never stopped, so the outcome is the same bit for bit.
std::vector<TrainingOutcome> train_pack(Backend& backend, const PackSpec& spec, const Dataset& train,
                                        const EvaluationSets& evaluation, const PackOptions& options,
                                        const std::vector<TrainingState>& start = {});

// Without validation rows: ranked on `test`.
inline std::vector<TrainingOutcome> train_pack(Backend& backend, const PackSpec& spec, const Dataset& train,
                                               const Dataset& test, const PackOptions& options) {
  return train_pack(backend, spec, train, EvaluationSets{&test, nullptr}, options);
}

// The forward pass of every layer on the loaded batch.
void forward_pass(PackWorkspace& ws, int layers, const StepInfo& info);

// Loss (+ L1 term) of the forward pass just run, and every gradient.
void loss_and_gradients(PackWorkspace& ws, int layers, const StepInfo& info);

// One training step on the loaded batch: forward, loss (+ L1 term), backward, optimizer step;
// the step's loss is added to the workspace's epoch sums.
// `scalars` is scratch space, one per network.
void training_step(PackWorkspace& ws, const PackSpec& spec, const StepInfo& info, std::vector<OptimizerStep>& scalars);

// Optimizer steps in one epoch: every full batch and the last partial one.
inline int steps_per_epoch(int train_rows, int batch_size) {
  const int batch = batch_size < train_rows ? batch_size : train_rows;
  return (train_rows + batch - 1) / batch;
}

// The order of the training rows in one epoch when shuffling.
std::vector<int> shuffled_order(int rows, std::uint64_t order_seed, int epoch);

// The most host memory train_pack allocates besides the backend's workspace: every network's
// initial parameters with one network's weight-initialization scratch, or the staged shuffled
// batch, and the per-network outcomes. With the workspace, what a worker thread holds.
std::size_t trainer_host_bytes(const PackSpec& spec, int train_rows, int features, bool shuffle);

// Floating-point operations of one training (forward and backward GEMMs on the training set,
// forward on the evaluated rows, `test_rows`), for throughput figures.
double training_flops(const ParameterLayout& layout, int max_epochs, int train_rows, int test_rows);

}  // namespace hf
