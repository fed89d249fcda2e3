// A range a random search draws a hyperparameter's values from, instead of a list: uniform or
// log-uniform over real numbers, uniform over whole numbers. Which kinds a hyperparameter takes
// is its descriptor's (a learning rate is drawn on a log scale, a batch size as a whole number,
// a name never); the loader checks the bounds against the descriptor's range.
#pragma once

#include <cstdint>
#include <string>

namespace hf {

enum class RangeKind { Uniform, LogUniform, IntUniform };
inline constexpr int kRangeKindCount = 3;

// The config's key for each kind, e.g. learning_rate = { log_uniform = [1e-5, 0.1] }.
inline constexpr const char* kRangeKindNames[kRangeKindCount] = {"uniform", "log_uniform", "int_uniform"};
inline const char* range_kind_name(RangeKind kind) { return kRangeKindNames[static_cast<int>(kind)]; }

struct HyperparameterRange {
  RangeKind kind = RangeKind::Uniform;
  double low = 0.0, high = 0.0;  // both drawable: [low, high]

  // "{ log_uniform = [1e-05, 0.1] }": the bounds in Python's notation, for the study identity
  // and messages.
  std::string text() const;

  // Value number u in [0, 1) mapped into the range: low + (high - low) u, exp of that on the
  // log scale, or low + floor((high - low + 1) u) for whole numbers; always within [low, high].
  double value_at(double u) const;
};

// A uniform double in [0, 1) from 64 random bits (their top 53).
inline double unit_interval(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

}  // namespace hf
