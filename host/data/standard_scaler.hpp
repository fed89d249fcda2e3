// scikit-learn's StandardScaler as the seed used it: fit on the training set (population
// standard deviation; a constant column keeps scale 1), then applied to both sets.
#pragma once

#include <vector>

#include "host/data/labelled_table.hpp"

namespace hf {

// Scaled float features and labels, ready for training.
struct Dataset {
  int rows = 0;
  int features = 0;
  std::vector<float> x;  // rows x features, row-major
  std::vector<float> y;  // 0/1 labels
  const float* row(int r) const { return x.data() + static_cast<std::size_t>(r) * features; }
};

class StandardScaler {
 public:
  static StandardScaler fit(const LabelledTable& table);
  // A scaler fitted earlier, from the statistics it kept (a study's stored models).
  static StandardScaler from_statistics(std::vector<double> mean, std::vector<double> scale,
                                        std::vector<double> factor);
  Dataset transform(const LabelledTable& table) const;
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& scale() const { return scale_; }
  const std::vector<double>& factor() const { return factor_; }

 private:
  std::vector<double> mean_;
  std::vector<double> scale_;
  std::vector<double> factor_;  // per column: 1, or a power of two that keeps huge values from overflowing
};

}  // namespace hf
