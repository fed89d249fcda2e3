// Does a network's precision beat the base rate by more than chance? The one-sided Fisher exact
// test on [[tp, fp], [fn, tn]]: the hypergeometric upper tail P(X >= tp) with N = total,
// K = tp + fn positives, n = tp + fp predicted positives. Computed in log space, so p-values
// far below 1e-308 still rank correctly.
#pragma once

#include "kernels/backend/confusion_counts.hpp"

namespace hf {

struct PrecisionTest {
  double log10_p_value = 0.0;  // exact even where p_value underflows to 0
  double p_value = 1.0;
  double precision = 0.0;  // tp / (tp + fp); 0 with no predicted positives
};

// 1.0 (log10 0) when there are no predicted positives or precision does not beat the base
// rate, as the seed script scored.
PrecisionTest precision_p_value(const ConfusionCounts& counts);

}  // namespace hf
