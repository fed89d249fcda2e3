#include "host/training/pack_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <stdexcept>

#include "host/common/random.hpp"
#include "host/training/steps_per_launch.hpp"
#include "host/training/weight_init.hpp"

namespace hf {
namespace {

std::string failure_message(const NetworkHealth& health, int epoch, int steps_per_epoch) {
  if (health.first_nonfinite_loss_step >= 0) {
    const long long step = health.first_nonfinite_loss_step;
    return "training diverged: the loss became NaN or infinite at epoch " + std::to_string(step / steps_per_epoch + 1) +
           ", step " + std::to_string(step % steps_per_epoch + 1) + " of " + std::to_string(steps_per_epoch) +
           "; try a lower learning rate or less extreme settings";
  }
  return "training diverged: the weights became NaN or infinite during epoch " + std::to_string(epoch + 1) +
         "; try a lower learning rate or less extreme settings";
}

// Without hidden layers the network has no activation, so no PReLU slope (as the seed's model,
// which adds the activation module only after hidden layers).
bool has_prelu(const PackMember& member, const ParameterLayout& layout) {
  return member.activation == Activation::PReLU && layout.layers() > 1;
}

}  // namespace

void forward_pass(PackWorkspace& ws, int layers, const StepInfo& info) {
  for (int l = 0; l < layers; ++l) {
    ws.linear_forward(l, info);
    ws.bias_activation_dropout(l, info);
  }
}

void loss_and_gradients(PackWorkspace& ws, int layers, const StepInfo& info) {
  ws.output_loss_gradient(info);
  for (int l = layers - 1; l >= 0; --l) {
    ws.linear_backward(l, info);
    if (l > 0) ws.activation_backward(l - 1, info);
  }
  // After the backward pass, which overwrites the gradients.
  ws.l1_penalty(info);
  ws.check_loss(info);
}

void training_step(PackWorkspace& ws, const PackSpec& spec, const StepInfo& info, std::vector<OptimizerStep>& scalars) {
  const int layers = spec.layout.layers();
  forward_pass(ws, layers, info);
  loss_and_gradients(ws, layers, info);
  ws.accumulate_loss(info);
  for (int m = 0; m < spec.models(); ++m) {
    const PackMember& member = spec.members[m];
    // Every active network of a pack has taken the same number of steps.
    scalars[m] = optimizer_step_scalars(member.optimizer, member.learning_rate, member.l2,
                                        static_cast<long long>(info.step) + 1);
  }
  ws.optimizer_step(info, scalars);
}

std::vector<int> shuffled_order(int rows, std::uint64_t order_seed, int epoch) {
  std::vector<int> order(rows);
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 random(mix64(order_seed + static_cast<std::uint64_t>(epoch)));
  for (int i = rows - 1; i > 0; --i) std::swap(order[i], order[random.below(static_cast<std::uint64_t>(i) + 1)]);
  return order;
}

std::size_t trainer_host_bytes(const PackSpec& spec, int train_rows, int features, bool shuffle) {
  const std::size_t models = static_cast<std::size_t>(spec.models());
  std::size_t scratch = 0;
  for (const PackMember& member : spec.members)
    scratch = std::max(scratch, initialization_scratch_bytes(spec.layout, member.weight_init));
  const std::size_t initial = models * spec.layout.size * sizeof(float) + scratch;
  const std::size_t staged = shuffle ? static_cast<std::size_t>(std::min(spec.batch_size, train_rows)) *
                                           (static_cast<std::size_t>(features) + 1) * sizeof(float)
                                     : 0;
  const std::size_t per_network = sizeof(TrainingOutcome) + sizeof(OptimizerStep) + 2 * sizeof(std::uint8_t) +
                                  sizeof(NetworkHealth) + sizeof(ConfusionCounts);
  return std::max(initial, staged) + models * per_network;
}

double training_flops(const ParameterLayout& layout, int max_epochs, int train_rows, int test_rows) {
  // Forward, weight gradient and input gradient are 2 flops per multiply-add each; the first
  // layer needs no input gradient.
  const double macs = static_cast<double>(layout.forward_macs_per_row());
  const double first = static_cast<double>(layout.weight_count(0));
  return 2.0 * ((3.0 * macs - first) * train_rows * max_epochs + macs * test_rows);
}

namespace {

// Every network's initial parameters from its own seed, models x layout.size.
std::vector<float> initial_parameters(const PackSpec& spec) {
  const ParameterLayout& layout = spec.layout;
  std::vector<float> parameters(static_cast<std::size_t>(spec.models()) * layout.size);
  for (int m = 0; m < spec.models(); ++m) {
    const PackMember& member = spec.members[m];
    initialize_parameters(layout, member.weight_init, has_prelu(member, layout), member.seed,
                          parameters.data() + static_cast<std::size_t>(m) * layout.size);
  }
  return parameters;
}

// One epoch's training steps in file order or in the epoch's shuffled order; `step` counts on.
void train_epoch(PackWorkspace& ws, const PackSpec& spec, const Dataset& train, const PackOptions& options, int epoch,
                 const std::vector<std::uint8_t>& active, std::uint64_t& step) {
  const int batch = std::min(spec.batch_size, train.rows);
  std::vector<int> order;
  if (options.shuffle) order = shuffled_order(train.rows, options.order_seed, epoch);
  std::vector<float> staged_x, staged_y;
  std::vector<OptimizerStep> scalars(spec.models());
  for (int start = 0; start < train.rows; start += batch) {
    const int rows = std::min(batch, train.rows - start);
    const float* x = train.row(start);
    const float* y = train.y.data() + start;
    if (options.shuffle) {
      staged_x.resize(static_cast<std::size_t>(rows) * train.features);
      staged_y.resize(rows);
      for (int r = 0; r < rows; ++r) {
        const int source = order[start + r];
        std::copy(train.row(source), train.row(source) + train.features,
                  staged_x.data() + static_cast<std::size_t>(r) * train.features);
        staged_y[r] = train.y[source];
      }
      x = staged_x.data();
      y = staged_y.data();
    }
    ws.load_batch(x, y, rows);
    training_step(ws, spec, StepInfo{step, rows, Mode::Training, active.data()}, scalars);
    ++step;
  }
}

RowsView rows_of(const Dataset& data) { return RowsView{data.rows, data.features, data.x.data(), data.y.data()}; }

// Each active network's mean loss over the epoch's steps, read once per epoch.
void record_epoch_losses(PackWorkspace& ws, const std::vector<std::uint8_t>& active, int steps_in_epoch,
                         std::vector<TrainingOutcome>& outcomes) {
  const std::vector<double> sums = ws.take_loss_sums();
  for (std::size_t m = 0; m < outcomes.size(); ++m) {
    if (active[m]) outcomes[m].epoch_losses.push_back(sums[m] / steps_in_epoch);
  }
}

// Each network's final parameters, without the layout's padding; none for a failed network.
void keep_parameters(PackWorkspace& ws, const ParameterLayout& layout, std::vector<TrainingOutcome>& outcomes) {
  std::vector<float> all(outcomes.size() * layout.size);
  ws.read_parameters(all.data());
  for (std::size_t m = 0; m < outcomes.size(); ++m) {
    if (outcomes[m].failed) continue;
    const float* first = all.data() + m * layout.size;
    outcomes[m].parameters.assign(first, first + layout.used);
  }
}

// Each network's full training state after `epochs` epochs and `steps` steps; none for a failed
// network.
void keep_states(PackWorkspace& ws, const ParameterLayout& layout, int epochs, std::uint64_t steps,
                 std::vector<TrainingOutcome>& outcomes) {
  const std::size_t count = outcomes.size() * layout.size;
  std::vector<float> parameters(count), first(count), second(count);
  ws.read_training_state(parameters.data(), first.data(), second.data());
  for (std::size_t m = 0; m < outcomes.size(); ++m) {
    if (outcomes[m].failed) continue;
    TrainingState& state = outcomes[m].state;
    const std::size_t begin = m * layout.size, end = begin + layout.size;
    state.epochs = epochs;
    state.steps = steps;
    state.parameters.assign(parameters.begin() + begin, parameters.begin() + end);
    state.first_state.assign(first.begin() + begin, first.begin() + end);
    state.second_state.assign(second.begin() + begin, second.begin() + end);
    state.epoch_losses = outcomes[m].epoch_losses;
  }
}

// Loads the members' states into the workspace; returns the epochs they trained. Every member
// continues from the same epoch, as a pack steps in lock step.
int load_states(PackWorkspace& ws, const PackSpec& spec, const std::vector<TrainingState>& start,
                std::vector<TrainingOutcome>& outcomes) {
  const std::size_t size = spec.layout.size;
  if (start.size() != spec.members.size()) throw std::logic_error("train_pack: one start state per member");
  std::vector<float> parameters(start.size() * size), first(start.size() * size), second(start.size() * size);
  for (std::size_t m = 0; m < start.size(); ++m) {
    const TrainingState& state = start[m];
    if (state.epochs != start[0].epochs || state.steps != start[0].steps || state.parameters.size() != size ||
        state.first_state.size() != size || state.second_state.size() != size) {
      throw std::logic_error("train_pack: the start states do not fit the pack");
    }
    std::copy(state.parameters.begin(), state.parameters.end(), parameters.begin() + m * size);
    std::copy(state.first_state.begin(), state.first_state.end(), first.begin() + m * size);
    std::copy(state.second_state.begin(), state.second_state.end(), second.begin() + m * size);
    outcomes[m].epoch_losses = state.epoch_losses;
  }
  ws.write_training_state(parameters.data(), first.data(), second.data());
  return start.empty() ? 0 : start[0].epochs;
}

// Marks the networks whose loss or weights became NaN/Inf during this epoch as failed.
void record_failures(PackWorkspace& ws, const std::vector<std::uint8_t>& active, int epoch, int steps_in_epoch,
                     std::vector<TrainingOutcome>& outcomes) {
  ws.check_parameters();
  const std::vector<NetworkHealth> health = ws.read_health();
  for (std::size_t m = 0; m < outcomes.size(); ++m) {
    if (!active[m] || outcomes[m].failed) continue;
    if (health[m].first_nonfinite_loss_step >= 0 || health[m].nonfinite_parameters) {
      outcomes[m].failed = true;
      outcomes[m].error = failure_message(health[m], epoch, steps_in_epoch);
    }
  }
}

// Confusion counts of every network that did not fail, on `rows` in fixed-size batches. With
// `predicted`, also each network's predicted positives: its sigmoid outputs read back after each
// batch and compared with the threshold as count_confusion compares them, so the bits and the
// counts agree.
std::vector<ConfusionCounts> evaluate(PackWorkspace& ws, const PackSpec& spec, const Dataset& rows,
                                      float prediction_threshold, const std::vector<TrainingOutcome>& outcomes,
                                      std::vector<RowBitset>* predicted) {
  std::vector<std::uint8_t> active(outcomes.size());
  for (std::size_t m = 0; m < outcomes.size(); ++m) active[m] = !outcomes[m].failed;
  const int last = spec.layout.layers() - 1;
  std::vector<float> outputs;
  if (predicted) predicted->assign(outcomes.size(), RowBitset(rows.rows));
  EvaluationResult whole;
  const bool evaluated_whole =
      ws.evaluate(rows_of(rows), prediction_threshold, active.data(), predicted != nullptr, whole);
  if (evaluated_whole && predicted) {
    const std::size_t words = (static_cast<std::size_t>(rows.rows) + 63) / 64;
    for (std::size_t m = 0; m < outcomes.size(); ++m) {
      if (!active[m]) continue;
      const std::uint64_t* first = whole.positive_words.data() + m * words;
      std::copy(first, first + words, (*predicted)[m].words().begin());
    }
  }
  if (!evaluated_whole) ws.reset_confusion();
  for (int start = 0; !evaluated_whole && start < rows.rows; start += kEvaluationRows) {
    const int batch = std::min(kEvaluationRows, rows.rows - start);
    ws.load_batch(rows.row(start), rows.y.data() + start, batch);
    const StepInfo info{0, batch, Mode::Evaluation, active.data()};
    forward_pass(ws, spec.layout.layers(), info);
    ws.count_confusion(info, prediction_threshold);
    if (!predicted) continue;
    outputs.resize(static_cast<std::size_t>(spec.models()) * batch);
    ws.read_layer(last, LayerBuffer::Activation, batch, outputs.data());  // the output layer's width is 1
    for (int m = 0; m < spec.models(); ++m) {
      if (!active[m]) continue;
      const float* p = outputs.data() + static_cast<std::size_t>(m) * batch;
      for (int r = 0; r < batch; ++r) {
        if (p[r] > prediction_threshold) (*predicted)[m].set(start + r);
      }
    }
  }
  std::vector<ConfusionCounts> counts = evaluated_whole ? whole.counts : ws.read_confusion();
  if (predicted) {
    for (std::size_t m = 0; m < outcomes.size(); ++m) {
      if (active[m] && (*predicted)[m].count() != counts[m].tp + counts[m].fp) {
        throw std::logic_error("evaluation: the outputs read back disagree with the backend's confusion counts");
      }
      if (!active[m]) (*predicted)[m] = RowBitset();
    }
  }
  return counts;
}

}  // namespace

std::vector<TrainingOutcome> train_pack(Backend& backend, const PackSpec& spec, const Dataset& train,
                                        const EvaluationSets& evaluation, const PackOptions& options,
                                        const std::vector<TrainingState>& start) {
  const auto started = std::chrono::steady_clock::now();
  const int models = spec.models();
  std::unique_ptr<PackWorkspace> ws =
      backend.create_workspace(spec, workspace_rows(spec.batch_size, train.rows, evaluation.rows()));
  // Backends that train whole epochs (the fused CUDA kernels) get the rows once.
  const bool whole_epochs = ws->load_training_rows(rows_of(train));
  std::vector<TrainingOutcome> outcomes(models);
  const int steps_in_epoch = steps_per_epoch(train.rows, std::min(spec.batch_size, train.rows));
  int first_epoch = 0;
  if (start.empty()) {
    ws->write_parameters(initial_parameters(spec).data());
  } else {
    first_epoch = load_states(*ws, spec, start, outcomes);
    // The step counter keys the dropout masks, RReLU slopes and the optimizer's bias
    // correction: it must go on from where the stopped training left it.
    if (start[0].steps != static_cast<std::uint64_t>(first_epoch) * steps_in_epoch)
      throw std::logic_error("train_pack: a start state's step count does not match its epochs");
  }

  std::vector<std::uint8_t> active(models, 1);
  int max_epochs = 0;
  for (const PackMember& member : spec.members) max_epochs = std::max(max_epochs, member.max_epochs);
  for (const PackMember& member : spec.members) {
    if (options.keep_state && member.max_epochs != max_epochs)
      throw std::logic_error("train_pack: the members of a pack that keeps states train the same epochs");
  }
  std::uint64_t step = static_cast<std::uint64_t>(first_epoch) * steps_in_epoch;
  const int max_steps_per_launch = max_steps_per_launch_from_environment();
  for (int epoch = first_epoch; epoch < max_epochs; ++epoch) {
    bool any = false;
    for (int m = 0; m < models; ++m) {
      active[m] = epoch < spec.members[m].max_epochs && !outcomes[m].failed;
      any = any || active[m];
    }
    if (!any) break;
    const EpochRequest request{epoch, step, options.shuffle, options.order_seed, max_steps_per_launch};
    if (whole_epochs && ws->train_epoch(request)) {
      step += static_cast<std::uint64_t>(steps_in_epoch);
    } else {
      train_epoch(*ws, spec, train, options, epoch, active, step);
    }
    record_epoch_losses(*ws, active, steps_in_epoch, outcomes);
    record_failures(*ws, active, epoch, steps_in_epoch, outcomes);
  }
  if (options.keep_parameters) keep_parameters(*ws, spec.layout, outcomes);
  // Members of a pack that carries states all stop at the same epoch (a rung of halving).
  if (options.keep_state) keep_states(*ws, spec.layout, max_epochs, step, outcomes);

  std::vector<RowBitset> predicted;
  const std::vector<ConfusionCounts> counts =
      evaluate(*ws, spec, *evaluation.ranking, options.prediction_threshold, outcomes, &predicted);
  std::vector<ConfusionCounts> test_counts(models);
  if (evaluation.test) {
    test_counts = evaluate(*ws, spec, *evaluation.test, options.prediction_threshold, outcomes, nullptr);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (int m = 0; m < models; ++m) {
    outcomes[m].counts = counts[m];
    outcomes[m].test_counts = test_counts[m];
    outcomes[m].predicted_positives = std::move(predicted[m]);
    outcomes[m].seconds = seconds / models;
  }
  return outcomes;
}

}  // namespace hf
