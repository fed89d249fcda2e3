#include "host/data/standard_scaler.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace hf {

StandardScaler StandardScaler::fit(const LabelledTable& table) {
  StandardScaler s;
  const int n = table.features;
  s.mean_.assign(n, 0.0);
  s.scale_.assign(n, 1.0);
  for (int r = 0; r < table.rows; ++r) {
    for (int c = 0; c < n; ++c) s.mean_[c] += table.values[static_cast<std::size_t>(r) * n + c];
  }
  for (int c = 0; c < n; ++c) s.mean_[c] /= table.rows;
  std::vector<double> variance(n, 0.0);
  for (int r = 0; r < table.rows; ++r) {
    for (int c = 0; c < n; ++c) {
      const double d = table.values[static_cast<std::size_t>(r) * n + c] - s.mean_[c];
      variance[c] += d * d;
    }
  }
  for (int c = 0; c < n; ++c) {
    // scikit-learn's test for a constant column (rounding noise only): leave it unscaled
    // rather than divide by ~0.
    const double var = variance[c] / table.rows;
    const double eps = std::numeric_limits<double>::epsilon();
    const double n_eps_mean = table.rows * s.mean_[c] * eps;
    const bool constant = var <= table.rows * eps * var + n_eps_mean * n_eps_mean;
    s.scale_[c] = constant ? 1.0 : std::sqrt(var);
  }
  return s;
}

Dataset StandardScaler::transform(const LabelledTable& table) const {
  if (table.features != static_cast<int>(mean_.size())) throw std::logic_error("scaler fitted on another width");
  Dataset d;
  d.rows = table.rows;
  d.features = table.features;
  d.y = table.labels;
  d.x.resize(table.values.size());
  for (int r = 0; r < table.rows; ++r) {
    for (int c = 0; c < table.features; ++c) {
      const std::size_t i = static_cast<std::size_t>(r) * table.features + c;
      d.x[i] = static_cast<float>((table.values[i] - mean_[c]) / scale_[c]);
    }
  }
  return d;
}

}  // namespace hf
