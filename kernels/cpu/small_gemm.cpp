#include "kernels/cpu/small_gemm.hpp"

#include <mutex>

#if HYPERFUSE_HAVE_LIBXSMM
#include <libxsmm.h>
#endif

namespace hf {

void reference_gemm(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
                    bool transpose_b) {
  for (int j = 0; j < n; ++j) {
    float* column = c + static_cast<long>(j) * ldc;
    for (int i = 0; i < m; ++i) column[i] = 0.0f;
    for (int p = 0; p < k; ++p) {
      const float scale = transpose_b ? b[j + static_cast<long>(p) * ldb] : b[p + static_cast<long>(j) * ldb];
      const float* a_column = a + static_cast<long>(p) * lda;
      for (int i = 0; i < m; ++i) column[i] += a_column[i] * scale;
    }
  }
}

SmallGemm::SmallGemm(int m, int n, int k, int lda, int ldb, int ldc, bool transpose_b)
    : m_(m), n_(n), k_(k), lda_(lda), ldb_(ldb), ldc_(ldc), transpose_b_(transpose_b) {
#if HYPERFUSE_HAVE_LIBXSMM
  static std::once_flag initialised;
  std::call_once(initialised, [] { libxsmm_init(); });
  const float alpha = 1.0f, beta = 0.0f;
  const int flags = transpose_b ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE;
  const libxsmm_blasint mm = m, nn = n, kk = k, la = lda, lb = ldb, lc = ldc;
  kernel_ = libxsmm_smmdispatch(mm, nn, kk, &la, &lb, &lc, &alpha, &beta, &flags, nullptr);
#endif
}

void SmallGemm::operator()(const float* a, const float* b, float* c) const {
  if (kernel_ != nullptr) {
    kernel_(a, b, c);
  } else {
    reference_gemm(m_, n_, k_, a, lda_, b, ldb_, c, ldc_, transpose_b_);
  }
}

std::size_t small_gemm_cache_bytes(std::size_t kernels) {
#if HYPERFUSE_HAVE_LIBXSMM
  return (std::size_t{23} << 19) + kernels * (std::size_t{12} << 10);  // 11.5 MiB + 12 KiB each, rounded up
#else
  (void)kernels;
  return 0;
#endif
}

const char* small_gemm_library() {
#if HYPERFUSE_HAVE_LIBXSMM
  return "libxsmm " LIBXSMM_VERSION " JIT GEMMs";
#else
  return "portable GEMM loops (libxsmm not found at build time)";
#endif
}

}  // namespace hf
