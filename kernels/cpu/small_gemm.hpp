// C = A * op(B) for the small single-precision matrices of one layer and one batch (column-
// major, no accumulation). libxsmm's JIT kernels when the build has them and they support the
// shape; a portable loop otherwise. bench/gemm_choice.cpp measured libxsmm against Eigen and
// OpenBLAS on the seed network's shapes (see README, "CPU speed").
#pragma once

#include <cstddef>

namespace hf {

class SmallGemm {
 public:
  SmallGemm() = default;
  // C is m x n, A is m x k; B is k x n, or n x k when transpose_b.
  SmallGemm(int m, int n, int k, int lda, int ldb, int ldc, bool transpose_b);
  void operator()(const float* a, const float* b, float* c) const;
  bool accelerated() const { return kernel_ != nullptr; }

 private:
  using Kernel = void (*)(const float*, const float*, float*, ...);  // libxsmm_smmfunction
  int m_ = 0, n_ = 0, k_ = 0, lda_ = 0, ldb_ = 0, ldc_ = 0;
  bool transpose_b_ = false;
  Kernel kernel_ = nullptr;
};

// The GEMM library this build uses, e.g. "libxsmm 1.17 JIT" or "portable loops".
const char* small_gemm_library();

// Host memory the GEMM library keeps for the whole run once `kernels` distinct kernel shapes
// were compiled: libxsmm's registry (libxsmm_init) and each kernel's code; 0 for the portable
// loops. Measured with Debian 12's libxsmm 1.17 on x86-64: 11.0 MiB for the registry and 11.4
// KiB per kernel (peak resident memory after 1, 100 and 1,000 dispatches of distinct shapes).
std::size_t small_gemm_cache_bytes(std::size_t kernels);

// The portable loop, also the reference the tests compare the kernels with.
void reference_gemm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
                    bool transpose_b);

}  // namespace hf
