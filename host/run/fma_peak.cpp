// Measures the CPU's FMA peak (fma_peak.hpp) for `hyperfuse benchmark` and the benchmarks.
#include "host/run/fma_peak.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace hf {
namespace {

// 16 floats: compiled to the widest vectors -march=native allows (one zmm, two ymm, ...).
typedef float Vector16 __attribute__((vector_size(64)));
constexpr int kChains = 12;  // enough independent FMAs to cover the FMA latency

double fma_loop(long iterations) {
  Vector16 m, b;
  for (int k = 0; k < 16; ++k) {
    m[k] = 1.0000001f;
    b[k] = 0.999999f;
  }
  // Twelve accumulators in registers (an array would be spilled to memory).
  Vector16 c0 = m, c1 = m * 2, c2 = m * 3, c3 = m * 4, c4 = m * 5, c5 = m * 6;
  Vector16 c6 = m * 7, c7 = m * 8, c8 = m * 9, c9 = m * 10, c10 = m * 11, c11 = m * 12;
  for (long i = 0; i < iterations; ++i) {
    c0 = c0 * m + b;
    c1 = c1 * m + b;
    c2 = c2 * m + b;
    c3 = c3 * m + b;
    c4 = c4 * m + b;
    c5 = c5 * m + b;
    c6 = c6 * m + b;
    c7 = c7 * m + b;
    c8 = c8 * m + b;
    c9 = c9 * m + b;
    c10 = c10 * m + b;
    c11 = c11 * m + b;
  }
  const Vector16 sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  double total = 0;
  for (int k = 0; k < 16; ++k) total += sum[k];
  return total;
}

}  // namespace

double measured_fma_peak_gflops(int threads, double seconds) {
  // Calibrate the iteration count on one thread, then run all threads at once.
  long iterations = 1 << 20;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    volatile double sink = fma_loop(iterations);
    (void)sink;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (elapsed > seconds / 4) {
      iterations = static_cast<long>(iterations * seconds / elapsed);
      break;
    }
    iterations *= 2;
  }
  std::vector<std::thread> workers;
  std::atomic<double> sink{0};
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) workers.emplace_back([&] { sink = sink + fma_loop(iterations); });
  for (std::thread& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 2.0 * 16 * kChains * static_cast<double>(iterations) * threads / elapsed / 1e9;
}

}  // namespace hf
