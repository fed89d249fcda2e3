// A pack of one network on a backend, driven step by step: the harness the semantics,
// gradient and op tests use.
#pragma once

#include <memory>
#include <vector>

#include "host/training/pack_trainer.hpp"
#include "kernels/backend/backend.hpp"

namespace hf::testing {

class SingleNetwork {
 public:
  SingleNetwork(Backend& backend, std::vector<int> widths, const PackMember& member, int max_rows)
      : backend_(backend), spec_{ParameterLayout(std::move(widths)), max_rows, {member}} {
    ws_ = backend_.create_workspace(spec_, max_rows);
  }

  const ParameterLayout& layout() const { return spec_.layout; }

  // Parameters in hyperfuse's order without padding (as the fixtures list them).
  void set_parameters(const std::vector<double>& used) {
    std::vector<float> padded(spec_.layout.size, 0.0f);
    for (std::size_t i = 0; i < used.size(); ++i) padded[i] = static_cast<float>(used[i]);
    ws_->write_parameters(padded.data());
  }
  std::vector<double> parameters() {
    std::vector<float> all(spec_.layout.size);
    ws_->read_parameters(all.data());
    return std::vector<double>(all.begin(), all.begin() + static_cast<long>(spec_.layout.used));
  }
  std::vector<double> gradients() {
    std::vector<float> all(spec_.layout.size);
    ws_->read_gradients(all.data());
    return std::vector<double>(all.begin(), all.begin() + static_cast<long>(spec_.layout.used));
  }

  // Forward pass; returns the sigmoid outputs.
  std::vector<double> forward(const std::vector<float>& x, const std::vector<float>& y, Mode mode,
                              std::uint64_t step = 0) {
    rows_ = static_cast<int>(y.size());
    x_ = x;
    y_ = y;
    ws_->load_batch(x_.data(), y_.data(), rows_);
    forward_pass(*ws_, spec_.layout.layers(), StepInfo{step, rows_, mode, nullptr});
    std::vector<float> p(rows_);
    ws_->read_layer(spec_.layout.layers() - 1, LayerBuffer::Activation, rows_, p.data());
    return std::vector<double>(p.begin(), p.end());
  }

  // Forward and backward pass; returns the loss (with the L1 term).
  double loss_and_gradients(const std::vector<float>& x, const std::vector<float>& y, Mode mode,
                            std::uint64_t step = 0) {
    forward(x, y, mode, step);
    hf::loss_and_gradients(*ws_, spec_.layout.layers(), StepInfo{step, rows_, mode, nullptr});
    return ws_->read_losses()[0];
  }

  // Z of every hidden layer after the last forward pass (with bias).
  std::vector<std::vector<double>> pre_activations(int hidden_layers) {
    std::vector<std::vector<double>> out;
    for (int l = 0; l < hidden_layers; ++l) {
      std::vector<float> z(static_cast<std::size_t>(rows_) * spec_.layout.out(l));
      ws_->read_layer(l, LayerBuffer::PreActivation, rows_, z.data());
      out.emplace_back(z.begin(), z.end());
    }
    return out;
  }

  // One optimizer step; returns the loss before it.
  double train_step(const std::vector<float>& x, const std::vector<float>& y, std::uint64_t step) {
    rows_ = static_cast<int>(y.size());
    x_ = x;
    y_ = y;
    ws_->load_batch(x_.data(), y_.data(), rows_);
    std::vector<OptimizerStep> scalars(1);
    training_step(*ws_, spec_, StepInfo{step, rows_, Mode::Training, nullptr}, scalars);
    return ws_->read_losses()[0];
  }

 private:
  Backend& backend_;
  PackSpec spec_;
  std::unique_ptr<PackWorkspace> ws_;
  std::vector<float> x_, y_;
  int rows_ = 0;
};

inline std::vector<float> as_floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

inline std::vector<int> as_ints(const std::vector<double>& v) { return std::vector<int>(v.begin(), v.end()); }

}  // namespace hf::testing
