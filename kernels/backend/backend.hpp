// The primitive operations a pack of networks trains with. The training algorithm is written
// once, in host/training/pack_trainer.cpp, over these; kernels/cpu/ implements them one network
// at a time and kernels/cuda/ with kernels over the whole pack.
//
// Shapes: a pack has `models` networks with the layer widths of its ParameterLayout; `rows` is
// the number of examples in the current batch (at most the workspace's max_rows). Parameters
// of all networks are one models x layout.size array on the host side of the interface.
// Layer l maps width in(l) to out(l); the last layer's output is the logit of the single
// sigmoid output. Hidden layer outputs pass through the network's activation, then dropout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/backend/confusion_counts.hpp"
#include "kernels/backend/pack_spec.hpp"
#include "kernels/math/optimizers.hpp"

namespace hf {

enum class Mode { Training, Evaluation };

// What every primitive of one step needs to know.
struct StepInfo {
  std::uint64_t step = 0;  // 0-based training step, the RNG counter for dropout and RReLU
  int rows = 0;
  Mode mode = Mode::Training;
  const std::uint8_t* active = nullptr;  // per network: 0 once it is past its last epoch or failed
};

// A data set's rows as a backend reads them whole: rows x features floats, row-major, and one
// 0/1 label a row, in host memory that stays valid while the pack trains.
struct RowsView {
  int rows = 0;
  int features = 0;
  const float* x = nullptr;
  const float* y = nullptr;
};

// One epoch handed to a backend whole (PackWorkspace::train_epoch): batches of the pack's batch
// size over the rows load_training_rows gave, the last one partial.
struct EpochRequest {
  int epoch = 0;                 // 0-based: network m trains in it iff epoch < its max_epochs and it has not failed
  std::uint64_t first_step = 0;  // the step counter (dropout, RReLU, the optimizer) at its first batch
  bool shuffle = false;          // batches in shuffled_order(rows, order_seed, epoch), else in file order
  std::uint64_t order_seed = 0;
  // Steps per launch of a backend that trains an epoch in launches (the CUDA backend): 0 lets it
  // plan them (each launch within about 100 ms), a positive number caps them (the tests, and
  // HYPERFUSE_MAX_STEPS_PER_LAUNCH). The results are the same whatever the split.
  int max_steps_per_launch = 0;
};

// A whole evaluation (PackWorkspace::evaluate): each network's confusion counts and, when asked
// for, its predicted positives: bit r % 64 of word r / 64 of the network's (rows + 63) / 64 words,
// networks one after another.
struct EvaluationResult {
  std::vector<ConfusionCounts> counts;
  std::vector<std::uint64_t> positive_words;
};

// Per network: the first step whose loss was NaN/Inf (or -1), and whether parameters were.
struct NetworkHealth {
  std::int64_t first_nonfinite_loss_step = -1;
  bool nonfinite_parameters = false;
};

// A layer's per-row buffers, for op-level tests: Z (pre-activation), the activation output,
// the output after dropout (what the next layer reads; the activation output for networks
// without dropout) and the gradient (at the output, or at Z once activation_backward ran).
enum class LayerBuffer { PreActivation, Activation, Output, Gradient };

// A pack's buffers on one backend (host memory for the CPU, device memory for CUDA) and the
// primitives that run over them. A backend creates one per pack; the trainer calls it directly.
class PackWorkspace {
 public:
  virtual ~PackWorkspace() = default;

  // The bytes this workspace's buffers took when it was created, on its backend's memory: what
  // the backend's workspace_bytes function (kernels/backend_registry.hpp) computes for it.
  virtual std::size_t allocated_bytes() const = 0;

  // Host transfers. write_parameters also zeroes gradients and optimizer state.
  virtual void write_parameters(const float* parameters) = 0;
  virtual void read_parameters(float* parameters) = 0;
  virtual void read_gradients(float* gradients) = 0;
  // Each network's full training state, so that training can stop and continue later in
  // another workspace (successive halving) exactly as if it had never stopped: the parameters
  // and the optimizer's two per-parameter states (zero for what an optimizer does not use),
  // models x layout.size floats each. The third part of the state, the number of steps taken,
  // is the trainer's: it is StepInfo::step, which keys the dropout and RReLU draws and the
  // optimizer's bias correction; the workspace keeps no counter. write_training_state zeroes
  // the gradients (every step overwrites them before it reads them).
  virtual void read_training_state(float* parameters, float* first_state, float* second_state) = 0;
  virtual void write_training_state(const float* parameters, const float* first_state, const float* second_state) = 0;
  virtual void write_gradients(const float* gradients) = 0;  // for op tests
  virtual std::vector<float> read_losses() = 0;
  virtual std::vector<NetworkHealth> read_health() = 0;
  virtual std::vector<ConfusionCounts> read_confusion() = 0;
  // models x rows x out(layer) values of one layer buffer.
  virtual void read_layer(int layer, LayerBuffer buffer, int rows, float* values) = 0;
  virtual void write_layer(int layer, LayerBuffer buffer, int rows, const float* values) = 0;
  // Fills every layer buffer and the gradients with NaN, so a test sees any element a
  // primitive should have written but did not.
  virtual void poison() = 0;

  // The batch every network of the pack reads next: rows x in(0) features and rows labels, in
  // host memory that stays valid until the next load_batch.
  virtual void load_batch(const float* features, const float* labels, int rows) = 0;

  // Z_l = input_l * W_l^T (input_0 is the batch, input_l the previous layer's output).
  virtual void linear_forward(int layer, const StepInfo& info) = 0;
  // Z_l += b_l, then for hidden layers activation and (training) dropout, for the last layer
  // the sigmoid.
  virtual void bias_activation_dropout(int layer, const StepInfo& info) = 0;
  // Per-network mean loss of the sigmoid outputs against the labels, and its gradient with
  // respect to the last layer's Z. Also clears the PReLU slope gradient for the new step.
  virtual void output_loss_gradient(const StepInfo& info) = 0;
  // dW_l, db_l from the gradient at Z_l; for l > 0 also the gradient at the previous output.
  virtual void linear_backward(int layer, const StepInfo& info) = 0;
  // Gradient at hidden layer l's output becomes the gradient at its Z (dropout mask,
  // activation derivative, PReLU slope gradient).
  virtual void activation_backward(int layer, const StepInfo& info) = 0;
  // loss += l1 * sum|p| and gradient += l1 * sign(p), for networks with l1 > 0; runs after
  // the backward pass, which overwrites the gradients.
  virtual void l1_penalty(const StepInfo& info) = 0;
  // Records the step if a network's loss is NaN/Inf.
  virtual void check_loss(const StepInfo& info) = 0;
  // Adds each active network's loss of this step (with its L1 term) to a running sum kept
  // where the loss is, so the trainer reads the sums once per epoch instead of every step.
  virtual void accumulate_loss(const StepInfo& info) = 0;
  // Each network's loss sum since the last call, then zeroed.
  virtual std::vector<double> take_loss_sums() = 0;
  // One optimizer step per active network, with its scalars for this step.
  virtual void optimizer_step(const StepInfo& info, const std::vector<OptimizerStep>& scalars) = 0;
  // Flags networks whose parameters hold NaN/Inf.
  virtual void check_parameters() = 0;

  // Evaluation: adds this batch's confusion counts (output > threshold is positive).
  virtual void reset_confusion() = 0;
  virtual void count_confusion(const StepInfo& info, float threshold) = 0;

  // Whole epochs and evaluations on the backend, for backends that run them faster than the
  // primitives above (the fused CUDA kernels): the trainer hands over the training rows once per
  // pack, then each epoch in one call, and reads losses and health once per epoch as it does in
  // the step-by-step path; the results are those of the primitives (the same math, the same
  // random draws). Each returns false when the backend trains step by step, the default.
  virtual bool load_training_rows(const RowsView& /*train*/) { return false; }
  virtual bool train_epoch(const EpochRequest& /*request*/) { return false; }
  // Every network with active[m] on `rows`, in batches in file order, each output > threshold a
  // positive prediction; with `positives`, also each network's predicted positives.
  virtual bool evaluate(const RowsView& /*rows*/, float /*threshold*/, const std::uint8_t* /*active*/,
                        bool /*positives*/, EvaluationResult& /*result*/) {
    return false;
  }
};

// Where packs train: makes each pack's workspace.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // The device it trains on, as the journal records it: "cpu", "cuda:1".
  virtual std::string device() const { return name(); }
  virtual std::unique_ptr<PackWorkspace> create_workspace(const PackSpec& spec, int max_rows) = 0;
};

}  // namespace hf
