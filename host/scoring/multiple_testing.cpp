#include "host/scoring/multiple_testing.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hf {
namespace {

void require_ascending(const std::vector<double>& values) {
  if (!std::is_sorted(values.begin(), values.end())) {
    throw std::invalid_argument("multiple testing: the p-values must come sorted ascending");
  }
}

}  // namespace

std::vector<double> holm_log10_p_values(const std::vector<double>& ascending_log10_p_values) {
  require_ascending(ascending_log10_p_values);
  const std::size_t m = ascending_log10_p_values.size();
  std::vector<double> adjusted(m);
  double running = -INFINITY;
  for (std::size_t i = 0; i < m; ++i) {
    const double scaled = ascending_log10_p_values[i] + std::log10(static_cast<double>(m - i));
    running = std::max(running, std::min(0.0, scaled));
    adjusted[i] = running;
  }
  return adjusted;
}

std::vector<double> benjamini_hochberg_log10_p_values(const std::vector<double>& ascending_log10_p_values) {
  require_ascending(ascending_log10_p_values);
  const std::size_t m = ascending_log10_p_values.size();
  std::vector<double> adjusted(m);
  double running = 0.0;
  for (std::size_t i = m; i-- > 0;) {
    const double scaled = ascending_log10_p_values[i] + std::log10(static_cast<double>(m) / static_cast<double>(i + 1));
    running = std::min(running, scaled);
    adjusted[i] = running;
  }
  return adjusted;
}

}  // namespace hf
