#include "host/data/standard_scaler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"

namespace hf {

namespace {

// Columns whose magnitude reaches this are summed and squared as value x 2^-exponent, so that
// finite data near the double range (1e308) cannot overflow the mean, the variance or the
// difference from the mean. Scaling by a power of two is exact, and ordinary columns use 1,
// so their statistics are bit for bit those of the plain formulas.
constexpr double kRescaleAbove = 0x1p500;

double power_of_two_factor(double largest_magnitude) {
  if (!(largest_magnitude >= kRescaleAbove)) return 1.0;
  int exponent = 0;
  std::frexp(largest_magnitude, &exponent);
  return std::ldexp(1.0, -exponent);
}

}  // namespace

StandardScaler StandardScaler::fit(const LabelledTable& table) {
  StandardScaler s;
  const int n = table.features;
  s.mean_.assign(n, 0.0);
  s.scale_.assign(n, 1.0);
  s.factor_.assign(n, 1.0);
  std::vector<double> largest(n, 0.0);
  for (int r = 0; r < table.rows; ++r) {
    for (int c = 0; c < n; ++c)
      largest[c] = std::max(largest[c], std::fabs(table.values[static_cast<std::size_t>(r) * n + c]));
  }
  for (int c = 0; c < n; ++c) s.factor_[c] = power_of_two_factor(largest[c]);
  // The statistics in scaled units (x factor), converted back at the end.
  std::vector<double> mean(n, 0.0);
  for (int r = 0; r < table.rows; ++r) {
    for (int c = 0; c < n; ++c) mean[c] += table.values[static_cast<std::size_t>(r) * n + c] * s.factor_[c];
  }
  for (int c = 0; c < n; ++c) mean[c] /= table.rows;
  std::vector<double> variance(n, 0.0);
  for (int r = 0; r < table.rows; ++r) {
    for (int c = 0; c < n; ++c) {
      const double d = table.values[static_cast<std::size_t>(r) * n + c] * s.factor_[c] - mean[c];
      variance[c] += d * d;
    }
  }
  for (int c = 0; c < n; ++c) {
    // scikit-learn's test for a constant column (rounding noise only): leave it unscaled
    // rather than divide by ~0.
    const double var = variance[c] / table.rows;
    const double eps = std::numeric_limits<double>::epsilon();
    const double n_eps_mean = table.rows * mean[c] * eps;
    const bool constant = var <= table.rows * eps * var + n_eps_mean * n_eps_mean;
    s.mean_[c] = mean[c] / s.factor_[c];
    // A constant column keeps scale 1 in the units it was summed in (1 for ordinary columns),
    // so rounding noise in a huge constant column stays small.
    s.scale_[c] = (constant ? 1.0 : std::sqrt(var)) / s.factor_[c];
  }
  return s;
}

StandardScaler StandardScaler::from_statistics(std::vector<double> mean, std::vector<double> scale,
                                               std::vector<double> factor) {
  if (scale.size() != mean.size() || factor.size() != mean.size())
    throw std::logic_error("scaler statistics of different widths");
  StandardScaler s;
  s.mean_ = std::move(mean);
  s.scale_ = std::move(scale);
  s.factor_ = std::move(factor);
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
      const float x =
          static_cast<float>((table.values[i] * factor_[c] - mean_[c] * factor_[c]) / (scale_[c] * factor_[c]));
      if (!std::isfinite(x)) {
        // Only a set the scaler was not fitted on can get here (standardised training values
        // are at most sqrt(rows) in magnitude).
        throw InputError(table.source.string() + ": row " + std::to_string(table.first_row + r + 1) +
                         " (not counting blank lines), column " + std::to_string(c + 1) + ": " +
                         python_float_repr(table.values[i]) + " lies so far outside the training data (mean " +
                         python_float_repr(mean_[c]) + ", standard deviation " + python_float_repr(scale_[c]) +
                         ") that standardised it exceeds single precision; check this value or drop the row");
      }
      d.x[i] = x;
    }
  }
  return d;
}

}  // namespace hf
