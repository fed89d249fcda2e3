// The progress line a long search keeps redrawing on a terminal: trainings done of total,
// trainings per second and the estimated time left.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>

namespace hf {

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled), started_(std::chrono::steady_clock::now()) {}
  void update(std::size_t done, std::size_t total);
  void finish();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace hf
