#include "host/scoring/median_of_reruns.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace hf {
namespace {

// log10((10^lower + 10^upper) / 2), factored around the larger so nothing overflows.
double log10_mean_of_two(double lower, double upper) {
  return upper + std::log10((std::pow(10.0, lower - upper) + 1.0) / 2.0);
}

}  // namespace

double median_log10_p_value(double* log10_p_values, std::size_t count) {
  if (count == 0) throw std::invalid_argument("median_log10_p_value: no reruns");
  std::sort(log10_p_values, log10_p_values + count);
  if (count % 2 == 1) return log10_p_values[count / 2];
  return log10_mean_of_two(log10_p_values[count / 2 - 1], log10_p_values[count / 2]);
}

RerunMedian median_of_reruns(const std::vector<double>& log10_p_values, const std::vector<double>& p_values) {
  if (log10_p_values.empty() || log10_p_values.size() != p_values.size()) {
    throw std::invalid_argument("median_of_reruns: one log10 p-value and one p-value per rerun");
  }
  std::vector<std::size_t> order(log10_p_values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return log10_p_values[a] < log10_p_values[b]; });
  const std::size_t count = order.size();
  RerunMedian median;
  if (count % 2 == 1) {
    median.representative = order[count / 2];
    median.log10_p_value = log10_p_values[median.representative];
    median.p_value = p_values[median.representative];
    return median;
  }
  const double lower = log10_p_values[order[count / 2 - 1]];
  const double upper = log10_p_values[order[count / 2]];
  median.log10_p_value = log10_mean_of_two(lower, upper);
  median.p_value = (p_values[order[count / 2 - 1]] + p_values[order[count / 2]]) / 2.0;
  median.representative = order[count / 2 - 1];
  return median;
}

}  // namespace hf
