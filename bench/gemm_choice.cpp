// gemm_choice: the measurement behind the CPU trainer's GEMM library. Times the three products
// of every layer of the seed network for one batch (forward X W^T, weight gradient dZ^T X,
// input gradient dZ W) with libxsmm (through SmallGemm, plus the transpose its forward needs),
// the portable loop, and, when built with them, Eigen and OpenBLAS; prints us per step and
// GFLOP/s for each, and libxsmm's figures GEMM by GEMM.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "host/common/random.hpp"
#include "kernels/cpu/small_gemm.hpp"
#include "kernels/cpu/transpose.hpp"

#if HYPERFUSE_BENCH_EIGEN
#include <Eigen/Core>
#endif
#if HYPERFUSE_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

constexpr int kRows = 32;
const int kWidths[] = {30, 60, 90, 60, 30, 15, 1};
constexpr int kLayers = 6;

struct Layer {
  int in, out;
  std::vector<float> x, w, wt, z, dz, dw, dx;
};

void time_it(const char* name, double flops, const std::function<void()>& step) {
  for (int i = 0; i < 200; ++i) step();
  const int repeats = 20000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) step();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (flops > 0.0) {
    std::printf("%-32s %8.2f us/step %8.2f GFLOP/s\n", name, seconds / repeats * 1e6, flops * repeats / seconds / 1e9);
  } else {
    std::printf("%-32s %8.2f us/step\n", name, seconds / repeats * 1e6);
  }
}

// The fastest of ten runs of 2,000 calls, for one small GEMM: its cost with operands hot in L1.
void time_best(const std::string& name, double flops, const std::function<void()>& call) {
  for (int i = 0; i < 200; ++i) call();
  double best = 1e9;
  for (int run = 0; run < 10; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 2000; ++i) call();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 2000);
  }
  if (flops > 0.0) {
    std::printf("  %-30s %8.2f us %8.2f GFLOP/s\n", name.c_str(), best * 1e6, flops / best / 1e9);
  } else {
    std::printf("  %-30s %8.2f us\n", name.c_str(), best * 1e6);
  }
}

}  // namespace

int main() {
  hf::SplitMix64 random(1);
  auto values = [&](std::size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(random.below(2001)) / 1000.0f - 1.0f;
    return v;
  };
  std::vector<Layer> layers;
  double flops = 0;
  for (int l = 0; l < kLayers; ++l) {
    const int in = kWidths[l], out = kWidths[l + 1];
    layers.push_back({in, out, values(kRows * in), values(out * in), values(out * in), values(kRows * out),
                      values(kRows * out), values(out * in), values(kRows * in)});
    flops += 6.0 * kRows * in * out;
  }

  std::vector<hf::SmallGemm> forward, weight_gradient, input_gradient;
  bool accelerated = true;
  for (const Layer& L : layers) {
    forward.emplace_back(L.out, kRows, L.in, L.out, L.in, L.out, false);
    weight_gradient.emplace_back(L.in, L.out, kRows, L.in, L.out, L.in, true);
    input_gradient.emplace_back(L.in, kRows, L.out, L.in, L.out, L.in, false);
    accelerated = accelerated && forward.back().accelerated() && weight_gradient.back().accelerated() &&
                  input_gradient.back().accelerated();
  }
  time_it(accelerated ? "libxsmm (+ weight transpose)" : "SmallGemm without libxsmm", flops, [&] {
    for (int l = 0; l < kLayers; ++l) {
      Layer& L = layers[l];
      hf::transpose(L.w.data(), L.out, L.in, L.wt.data());
      forward[l](L.wt.data(), L.x.data(), L.z.data());
      weight_gradient[l](L.x.data(), L.dz.data(), L.dw.data());
      input_gradient[l](L.w.data(), L.dz.data(), L.dx.data());
    }
  });
  // Each GEMM of each layer on its own, its operands hot in L1: how close libxsmm's kernels come
  // to the FMA peak for these shapes.
  for (int l = 0; l < kLayers; ++l) {
    Layer& L = layers[l];
    const double layer_flops = 2.0 * kRows * L.in * L.out;
    const std::string shape = std::to_string(L.in) + " -> " + std::to_string(L.out);
    time_best("forward " + shape, layer_flops, [&] { forward[l](L.wt.data(), L.x.data(), L.z.data()); });
    time_best("weight gradient " + shape, layer_flops,
              [&] { weight_gradient[l](L.x.data(), L.dz.data(), L.dw.data()); });
    time_best("input gradient " + shape, layer_flops, [&] { input_gradient[l](L.w.data(), L.dz.data(), L.dx.data()); });
    time_best("weight transpose " + shape, 0.0, [&] { hf::transpose(L.w.data(), L.out, L.in, L.wt.data()); });
  }
  time_it("portable loop", flops, [&] {
    for (Layer& L : layers) {
      for (int o = 0; o < L.out; ++o)
        for (int i = 0; i < L.in; ++i) L.wt[i * L.out + o] = L.w[o * L.in + i];
      hf::reference_gemm(L.out, kRows, L.in, L.wt.data(), L.out, L.x.data(), L.in, L.z.data(), L.out, false);
      hf::reference_gemm(L.in, L.out, kRows, L.x.data(), L.in, L.dz.data(), L.out, L.dw.data(), L.in, true);
      hf::reference_gemm(L.in, kRows, L.out, L.w.data(), L.in, L.dz.data(), L.out, L.dx.data(), L.in, false);
    }
  });
#if HYPERFUSE_BENCH_EIGEN
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Map = Eigen::Map<RowMajor>;
  time_it("Eigen", flops, [&] {
    for (Layer& L : layers) {
      Map x(L.x.data(), kRows, L.in), w(L.w.data(), L.out, L.in), z(L.z.data(), kRows, L.out),
          dz(L.dz.data(), kRows, L.out), dw(L.dw.data(), L.out, L.in), dx(L.dx.data(), kRows, L.in);
      z.noalias() = x * w.transpose();
      dw.noalias() = dz.transpose() * x;
      dx.noalias() = dz * w;
    }
  });
#endif
#if HYPERFUSE_BENCH_OPENBLAS
  openblas_set_num_threads(1);
  time_it("OpenBLAS", flops, [&] {
    for (Layer& L : layers) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, kRows, L.out, L.in, 1, L.x.data(), L.in, L.w.data(), L.in, 0,
                  L.z.data(), L.out);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L.out, L.in, kRows, 1, L.dz.data(), L.out, L.x.data(), L.in,
                  0, L.dw.data(), L.in);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kRows, L.in, L.out, 1, L.dz.data(), L.out, L.w.data(),
                  L.in, 0, L.dx.data(), L.in);
    }
  });
#endif
  return 0;
}
