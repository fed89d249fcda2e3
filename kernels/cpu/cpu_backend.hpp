// The CPU implementation of the pack primitives: the reference every other backend is tested
// against. Each network of a pack is computed on its own (per-network GEMMs, per-network
// element loops), so a network's numbers never depend on which pack it is in. One worker
// thread runs one pack at a time.
#pragma once

#include "kernels/backend/backend.hpp"

namespace hf {

class CpuBackend : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  std::unique_ptr<PackWorkspace> create_workspace(const PackSpec& spec, int max_rows) override;

  void write_parameters(PackWorkspace& ws, const float* parameters) override;
  void read_parameters(PackWorkspace& ws, float* parameters) override;
  void read_gradients(PackWorkspace& ws, float* gradients) override;
  void write_gradients(PackWorkspace& ws, const float* gradients) override;
  std::vector<float> read_losses(PackWorkspace& ws) override;
  std::vector<NetworkHealth> read_health(PackWorkspace& ws) override;
  std::vector<ConfusionCounts> read_confusion(PackWorkspace& ws) override;
  void read_layer(PackWorkspace& ws, int layer, LayerBuffer buffer, int rows, float* values) override;
  void write_layer(PackWorkspace& ws, int layer, LayerBuffer buffer, int rows, const float* values) override;
  void poison(PackWorkspace& ws) override;

  void load_batch(PackWorkspace& ws, const float* features, const float* labels, int rows) override;
  void linear_forward(PackWorkspace& ws, int layer, const StepInfo& info) override;
  void bias_activation_dropout(PackWorkspace& ws, int layer, const StepInfo& info) override;
  void output_loss_gradient(PackWorkspace& ws, const StepInfo& info) override;
  void linear_backward(PackWorkspace& ws, int layer, const StepInfo& info) override;
  void activation_backward(PackWorkspace& ws, int layer, const StepInfo& info) override;
  void l1_penalty(PackWorkspace& ws, const StepInfo& info) override;
  void check_loss(PackWorkspace& ws, const StepInfo& info) override;
  void optimizer_step(PackWorkspace& ws, const StepInfo& info, const std::vector<OptimizerStep>& scalars) override;
  void check_parameters(PackWorkspace& ws) override;
  void reset_confusion(PackWorkspace& ws) override;
  void count_confusion(PackWorkspace& ws, const StepInfo& info, float threshold) override;
};

}  // namespace hf
