// Device code of the fused kernels: one thread's register tile of a small GEMM whose operands
// sit in shared or global memory (generic pointers), fed by 16-byte loads. Every term is one
// fmaf (an FFMA whatever --fmad says: the GEMM's summation order differs from the CPU's anyway,
// as cuBLAS's did); k runs from 0 upwards, so each output element is the same on every run.
#pragma once

#include <cuda_runtime.h>
#include <math.h>

#include <type_traits>

namespace hf {

// `#pragma unroll` for nvcc; the host compilers of the emulation unroll fixed-count loops
// themselves and would warn about the pragma.
#if defined(__CUDACC__)
#define HF_UNROLL _Pragma("unroll")
#else
#define HF_UNROLL
#endif

// W consecutive floats at p (p aligned to 4 W bytes) into v.
template <int W>
__device__ __forceinline__ void load_run(const float* p, float (&v)[W]) {
#if HYPERFUSE_CUDA_EMULATED
  // One 16-byte load on the host too (the compiler splits a float4's fields into four loads),
  // which the race check records as one access; as aligned as CUDA's float4.
  if constexpr (W == 4) {
    typedef float Vector4 __attribute__((vector_size(16)));
    const Vector4 q = *reinterpret_cast<const Vector4*>(p);
    v[0] = q[0];
    v[1] = q[1];
    v[2] = q[2];
    v[3] = q[3];
    return;
  }
#endif
  if constexpr (W == 4) {
    const float4 q = *reinterpret_cast<const float4*>(p);
    v[0] = q.x;
    v[1] = q.y;
    v[2] = q.z;
    v[3] = q.w;
  } else if constexpr (W == 2) {
    const float2 q = *reinterpret_cast<const float2*>(p);
    v[0] = q.x;
    v[1] = q.y;
  } else {
    static_assert(W == 1, "runs of 1, 2 or 4 floats");
    v[0] = *p;
  }
}

// acc[i][j] += sum over k in [0, k4) of A(m0 + i, k) * B(k, n(j)), k4 a multiple of 4, where
//   A(m, k) = a[m * lda + k] when AK (k-contiguous), else a[k * lda + m]
//   B(k, n) = b[n * ldb + k] when BK (k-contiguous), else b[k * ldb + n]
//   n(j)    = n0 + j * n_step when BK, else n0 + j
// Strides and offsets keep every run of 4 (or TM, TN) floats aligned: m0 is a multiple of TM,
// n0 of TN, lda and ldb of 4.
template <int TM, int TN, bool AK, bool BK>
__device__ __forceinline__ void tile_product(const float* a, int lda, const float* b, int ldb, int m0, int n0,
                                             int n_step, int k4, float (&acc)[TM][TN]) {
  for (int k = 0; k < k4; k += 4) {
    float av[TM][4], bv[4][TN];
    if constexpr (AK) {
      HF_UNROLL for (int i = 0; i < TM; ++i) load_run<4>(a + static_cast<long>(m0 + i) * lda + k, av[i]);
    } else {
      HF_UNROLL for (int kk = 0; kk < 4; ++kk) {
        float v[TM];
        load_run<TM>(a + static_cast<long>(k + kk) * lda + m0, v);
        HF_UNROLL for (int i = 0; i < TM; ++i) av[i][kk] = v[i];
      }
    }
    if constexpr (BK) {
      HF_UNROLL for (int j = 0; j < TN; ++j) {
        float v[4];
        load_run<4>(b + static_cast<long>(n0 + j * n_step) * ldb + k, v);
        HF_UNROLL for (int kk = 0; kk < 4; ++kk) bv[kk][j] = v[kk];
      }
    } else {
      HF_UNROLL for (int kk = 0; kk < 4; ++kk) {
        float v[TN];
        load_run<TN>(b + static_cast<long>(k + kk) * ldb + n0, v);
        HF_UNROLL for (int j = 0; j < TN; ++j) bv[kk][j] = v[j];
      }
    }
    HF_UNROLL for (int kk = 0; kk < 4; ++kk) {
      HF_UNROLL for (int i = 0; i < TM; ++i) {
        HF_UNROLL for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(av[i][kk], bv[kk][j], acc[i][j]);
      }
    }
  }
}

// Calls f(std::integral_constant<int, TM>, std::integral_constant<int, TN>) for a tile shape of
// fused_plan.hpp's candidates (m x n: 4x4, 4x2, 2x4, 2x2, 1x4), so a phase instantiates its
// loop for the shape the plan chose.
template <typename F>
__device__ __forceinline__ void with_tile_shape(int m, int n, F&& f) {
  if (m == 4 && n == 4) {
    f(std::integral_constant<int, 4>{}, std::integral_constant<int, 4>{});
  } else if (m == 4 && n == 2) {
    f(std::integral_constant<int, 4>{}, std::integral_constant<int, 2>{});
  } else if (m == 2 && n == 4) {
    f(std::integral_constant<int, 2>{}, std::integral_constant<int, 4>{});
  } else if (m == 2 && n == 2) {
    f(std::integral_constant<int, 2>{}, std::integral_constant<int, 2>{});
  } else {
    f(std::integral_constant<int, 1>{}, std::integral_constant<int, 4>{});
  }
}

}  // namespace hf
