// Confusion counts of one trained network on the test set.
#pragma once

#include <cstdint>

namespace hf {

struct ConfusionCounts {
  std::int64_t tp = 0;  // predicted positive, label 1
  std::int64_t fp = 0;  // predicted positive, label 0
  std::int64_t fn = 0;  // predicted negative, label 1
  std::int64_t tn = 0;  // predicted negative, label 0
  std::int64_t total() const { return tp + fp + fn + tn; }
  bool operator==(const ConfusionCounts& o) const { return tp == o.tp && fp == o.fp && fn == o.fn && tn == o.tn; }
};

}  // namespace hf
