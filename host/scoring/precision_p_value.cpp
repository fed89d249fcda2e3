#include "host/scoring/precision_p_value.hpp"

#include <boost/math/special_functions/gamma.hpp>
#include <cmath>

namespace hf {
namespace {

double log_choose(double n, double k) {
  using boost::math::lgamma;
  return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

}  // namespace

PrecisionTest precision_p_value(const ConfusionCounts& c) {
  PrecisionTest result;
  const double N = static_cast<double>(c.total());
  const double K = static_cast<double>(c.tp + c.fn);
  const double n = static_cast<double>(c.tp + c.fp);
  const double tp = static_cast<double>(c.tp);
  if (c.tp + c.fp == 0) return result;
  result.precision = tp / n;
  // Compare tp/n with K/N without rounding: tp*N <= K*n in exact integer arithmetic.
  if (static_cast<long double>(c.tp) * c.total() <= static_cast<long double>(c.tp + c.fn) * (c.tp + c.fp))
    return result;

  // P(X >= tp) = pmf(tp) * sum_k pmf(k)/pmf(tp); successive ratios come from the pmf
  // recurrence pmf(k+1)/pmf(k) = (K-k)(n-k) / ((k+1)(N-K-n+k+1)).
  const double log_pmf = log_choose(K, tp) + log_choose(N - K, n - tp) - log_choose(N, n);
  const double highest = std::min(K, n);
  double term = 1.0, sum = 1.0;
  for (double k = tp; k < highest; k += 1.0) {
    term *= (K - k) * (n - k) / ((k + 1.0) * (N - K - n + k + 1.0));
    sum += term;
    if (term < sum * 1e-17) break;  // terms only shrink from here on: tp is above the mode
  }
  const double log_p = std::min(0.0, log_pmf + std::log(sum));
  result.log10_p_value = log_p / std::log(10.0);
  result.p_value = std::exp(log_p);
  return result;
}

}  // namespace hf
