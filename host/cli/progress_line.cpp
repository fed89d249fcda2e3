#include "host/cli/progress_line.hpp"

namespace hf {

void ProgressLine::update(std::size_t done, std::size_t total) {
  if (!enabled_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  char eta[32] = "--:--";
  if (rate > 0 && done > 0) {
    const long long left = static_cast<long long>((static_cast<double>(total - done)) / rate + 0.5);
    std::snprintf(eta, sizeof eta, "%lld:%02lld:%02lld", left / 3600, left / 60 % 60, left % 60);
  }
  std::fprintf(stderr, "\r  %zu/%zu trainings  %.1f trainings/s  ETA %s   ", done, total, rate, eta);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace hf
