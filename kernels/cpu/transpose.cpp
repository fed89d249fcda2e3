#include "kernels/cpu/transpose.hpp"

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace hf {
namespace {

void transpose_scalar(const float* in, int rows, int cols, int row_begin, int col_begin, float* out) {
  for (int r = row_begin; r < rows; ++r)
    for (int c = 0; c < cols; ++c) out[c * rows + r] = in[r * cols + c];
  for (int r = 0; r < row_begin; ++r)
    for (int c = col_begin; c < cols; ++c) out[c * rows + r] = in[r * cols + c];
}

}  // namespace

void transpose(const float* in, int rows, int cols, float* out) {
#if defined(__AVX__)
  // 8 x 8 blocks in registers: the scalar loop's strided stores cost more than the GEMMs
  // they feed.
  const int row_blocks = rows / 8 * 8, col_blocks = cols / 8 * 8;
  for (int r = 0; r < row_blocks; r += 8) {
    for (int c = 0; c < col_blocks; c += 8) {
      __m256 v[8], t[8];
      for (int k = 0; k < 8; ++k) v[k] = _mm256_loadu_ps(in + (r + k) * cols + c);
      for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(v[k], v[k + 1]);
        t[k + 1] = _mm256_unpackhi_ps(v[k], v[k + 1]);
      }
      for (int k = 0; k < 8; k += 4) {
        v[k] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(1, 0, 1, 0));
        v[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], _MM_SHUFFLE(3, 2, 3, 2));
        v[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(1, 0, 1, 0));
        v[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], _MM_SHUFFLE(3, 2, 3, 2));
      }
      for (int k = 0; k < 4; ++k) {
        _mm256_storeu_ps(out + (c + k) * rows + r, _mm256_permute2f128_ps(v[k], v[k + 4], 0x20));
        _mm256_storeu_ps(out + (c + k + 4) * rows + r, _mm256_permute2f128_ps(v[k], v[k + 4], 0x31));
      }
    }
  }
  transpose_scalar(in, rows, cols, row_blocks, col_blocks, out);
#else
  transpose_scalar(in, rows, cols, 0, 0, out);
#endif
}

}  // namespace hf
