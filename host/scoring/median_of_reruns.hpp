// A combination's score: the median p-value over its reruns, as Python's statistics.median
// takes it (the mean of the middle two for an even count), computed on log10 p-values.
#pragma once

#include <cstddef>
#include <vector>

namespace hf {

struct RerunMedian {
  double log10_p_value = 0.0;
  double p_value = 1.0;            // as Python computes it from the p-values (0 where they underflow)
  std::size_t representative = 0;  // the median rerun; for an even count the lower of the middle two
};

// Ordered by log10 p-value (ties keep rerun order); p_values are the same reruns' p-values.
RerunMedian median_of_reruns(const std::vector<double>& log10_p_values, const std::vector<double>& p_values);

// The median's log10 p-value alone, bit for bit as median_of_reruns computes it, for the
// permutation test's thousands of medians. Reorders the `count` values.
double median_log10_p_value(double* log10_p_values, std::size_t count);

}  // namespace hf
