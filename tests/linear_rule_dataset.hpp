// Generated training data for the backend and pack tests: rows of standardised-looking values
// whose label follows a noisy linear rule (even features count +1, odd ones `odd_weight`), so a
// network can learn something and backends can be compared on it.
#pragma once

#include <cstdint>

#include "host/common/random.hpp"
#include "host/training/pack_trainer.hpp"

namespace hf::testing {

struct LinearRule {
  double scale = 1.5;        // the spread of the features
  double odd_weight = -0.5;  // the rule's weight of odd features
  double noise = 0.3;        // the noise added to the rule's score
};

inline Dataset linear_rule_dataset(int rows, int features, std::uint64_t seed, const LinearRule& rule = {}) {
  SplitMix64 random(seed);
  const auto uniform = [&random] { return static_cast<double>(random.below(1u << 20)) / (1u << 19) - 1.0; };
  Dataset d;
  d.rows = rows;
  d.features = features;
  for (int r = 0; r < rows; ++r) {
    double score = 0.0;
    for (int f = 0; f < features; ++f) {
      const double v = uniform();
      d.x.push_back(static_cast<float>(rule.scale * v));
      score += (f % 2 == 0 ? 1.0 : rule.odd_weight) * v;
    }
    score += rule.noise * uniform();
    d.y.push_back(score > 0.0 ? 1.0f : 0.0f);
  }
  return d;
}

}  // namespace hf::testing
