// A pack workspace that passes every primitive on to another backend's workspace, for tests and
// benchmarks that change or time some primitives (inject a fault, measure) and keep the rest.
// It does not pass on the whole-epoch calls (train_epoch, evaluate), so the trainer runs the
// primitives step by step through it, the ones it changes included.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "kernels/backend/backend.hpp"

namespace hf {

class ForwardingWorkspace : public PackWorkspace {
 public:
  explicit ForwardingWorkspace(std::unique_ptr<PackWorkspace> inner) : inner_(std::move(inner)) {}

  std::size_t allocated_bytes() const override { return inner_->allocated_bytes(); }
  void write_parameters(const float* p) override { inner_->write_parameters(p); }
  void read_parameters(float* p) override { inner_->read_parameters(p); }
  void read_gradients(float* g) override { inner_->read_gradients(g); }
  void read_training_state(float* p, float* s1, float* s2) override { inner_->read_training_state(p, s1, s2); }
  void write_training_state(const float* p, const float* s1, const float* s2) override {
    inner_->write_training_state(p, s1, s2);
  }
  void write_gradients(const float* g) override { inner_->write_gradients(g); }
  std::vector<float> read_losses() override { return inner_->read_losses(); }
  std::vector<NetworkHealth> read_health() override { return inner_->read_health(); }
  std::vector<ConfusionCounts> read_confusion() override { return inner_->read_confusion(); }
  void read_layer(int l, LayerBuffer b, int rows, float* v) override { inner_->read_layer(l, b, rows, v); }
  void write_layer(int l, LayerBuffer b, int rows, const float* v) override { inner_->write_layer(l, b, rows, v); }
  void poison() override { inner_->poison(); }
  void load_batch(const float* x, const float* y, int rows) override { inner_->load_batch(x, y, rows); }
  void linear_forward(int l, const StepInfo& i) override { inner_->linear_forward(l, i); }
  void bias_activation_dropout(int l, const StepInfo& i) override { inner_->bias_activation_dropout(l, i); }
  void output_loss_gradient(const StepInfo& i) override { inner_->output_loss_gradient(i); }
  void linear_backward(int l, const StepInfo& i) override { inner_->linear_backward(l, i); }
  void activation_backward(int l, const StepInfo& i) override { inner_->activation_backward(l, i); }
  void l1_penalty(const StepInfo& i) override { inner_->l1_penalty(i); }
  void check_loss(const StepInfo& i) override { inner_->check_loss(i); }
  void accumulate_loss(const StepInfo& i) override { inner_->accumulate_loss(i); }
  std::vector<double> take_loss_sums() override { return inner_->take_loss_sums(); }
  void optimizer_step(const StepInfo& i, const std::vector<OptimizerStep>& s) override { inner_->optimizer_step(i, s); }
  void check_parameters() override { inner_->check_parameters(); }
  void reset_confusion() override { inner_->reset_confusion(); }
  void count_confusion(const StepInfo& i, float threshold) override { inner_->count_confusion(i, threshold); }

 protected:
  PackWorkspace& inner() { return *inner_; }

 private:
  std::unique_ptr<PackWorkspace> inner_;
};

}  // namespace hf
