// Adjusted p-values for having looked at many combinations at once: Holm's step-down
// (controls the chance of any false finding) and Benjamini-Hochberg's step-up (controls the
// expected share of false findings). Both read and return log10 p-values, so p-values far below
// 1e-308 keep their order, and both assume the p-values come sorted ascending, as the ranking
// sorts them.
#pragma once

#include <vector>

namespace hf {

// Holm: the i-th smallest of m p-values times (m - i + 1) (i from 1), made non-decreasing by a
// running maximum and capped at 1.
std::vector<double> holm_log10_p_values(const std::vector<double>& ascending_log10_p_values);

// Benjamini-Hochberg: the i-th smallest of m p-values times m / i, made non-decreasing by a
// running minimum from the largest down and capped at 1.
std::vector<double> benjamini_hochberg_log10_p_values(const std::vector<double>& ascending_log10_p_values);

}  // namespace hf
