#include "kernels/cpu/random_words.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace hf {
namespace {

#if defined(__AVX2__)
// Philox's two multiplications of one round for eight blocks: the low and high 32 bits of
// c * multiplier per lane. _mm256_mul_epu32 multiplies the even lanes to 64 bits; the odd
// lanes go through it shifted down.
inline void multiply_wide(__m256i c, __m256i multiplier, __m256i& low, __m256i& high) {
  const __m256i even = _mm256_mul_epu32(c, multiplier);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), multiplier);
  low = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  high = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

// 8 * Sets blocks, groups first_group onwards, as philox4x32_10 computes each. The Sets
// independent round chains are interleaved so the core overlaps their latencies.
template <int Sets>
void blocks_in_registers(std::uint64_t seed, std::uint32_t counter1, std::uint32_t counter2, std::uint32_t counter3,
                         std::uint32_t first_group, std::uint32_t* words) {
  __m256i c0[Sets], c1[Sets], c2[Sets], c3[Sets];
  for (int s = 0; s < Sets; ++s) {
    c0[s] = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first_group + 8u * static_cast<std::uint32_t>(s))),
                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    c1[s] = _mm256_set1_epi32(static_cast<int>(counter1));
    c2[s] = _mm256_set1_epi32(static_cast<int>(counter2));
    c3[s] = _mm256_set1_epi32(static_cast<int>(counter3));
  }
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  const __m256i multiplier0 = _mm256_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m256i multiplier1 = _mm256_set1_epi32(static_cast<int>(0xCD9E8D57u));
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const __m256i key0 = _mm256_set1_epi32(static_cast<int>(k0)), key1 = _mm256_set1_epi32(static_cast<int>(k1));
    for (int s = 0; s < Sets; ++s) {
      __m256i low0, high0, low1, high1;
      multiply_wide(c0[s], multiplier0, low0, high0);
      multiply_wide(c2[s], multiplier1, low1, high1);
      c0[s] = _mm256_xor_si256(_mm256_xor_si256(high1, c1[s]), key0);
      c1[s] = low1;
      c2[s] = _mm256_xor_si256(_mm256_xor_si256(high0, c3[s]), key1);
      c3[s] = low0;
    }
  }
  // Lane g of c0..c3 is block g; the words go out block by block (a 4 x 8 transpose).
  for (int s = 0; s < Sets; ++s) {
    const __m256i t0 = _mm256_unpacklo_epi32(c0[s], c1[s]), t1 = _mm256_unpackhi_epi32(c0[s], c1[s]);
    const __m256i t2 = _mm256_unpacklo_epi32(c2[s], c3[s]), t3 = _mm256_unpackhi_epi32(c2[s], c3[s]);
    const __m256i blocks04 = _mm256_unpacklo_epi64(t0, t2), blocks15 = _mm256_unpackhi_epi64(t0, t2);
    const __m256i blocks26 = _mm256_unpacklo_epi64(t1, t3), blocks37 = _mm256_unpackhi_epi64(t1, t3);
    auto* out = reinterpret_cast<__m256i*>(words + 32 * s);
    _mm256_storeu_si256(out + 0, _mm256_permute2x128_si256(blocks04, blocks15, 0x20));
    _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(blocks26, blocks37, 0x20));
    _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(blocks04, blocks15, 0x31));
    _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(blocks26, blocks37, 0x31));
  }
}
#endif

void philox_words_scalar(std::uint64_t seed, RandomStream stream, std::uint32_t layer, std::uint64_t step,
                         std::uint32_t first_group, std::size_t groups, std::uint32_t* words) {
  for (std::size_t g = 0; g < groups; ++g) {
    const Philox4 block = random_block(seed, stream, layer, step, first_group + static_cast<std::uint32_t>(g));
    for (int j = 0; j < 4; ++j) words[4 * g + j] = block.v[j];
  }
}

}  // namespace

void philox_words(std::uint64_t seed, RandomStream stream, std::uint32_t layer, std::uint64_t step,
                  std::uint32_t first_group, std::size_t groups, std::uint32_t* words) {
  std::size_t done = 0;
#if defined(__AVX2__)
  // The counter words random_block puts beside the group number.
  const std::uint32_t counter1 = (static_cast<std::uint32_t>(stream) << 16) | layer;
  const std::uint32_t counter2 = static_cast<std::uint32_t>(step), counter3 = static_cast<std::uint32_t>(step >> 32);
  for (; done + 32 <= groups; done += 32) {
    blocks_in_registers<4>(seed, counter1, counter2, counter3, first_group + static_cast<std::uint32_t>(done),
                           words + 4 * done);
  }
  for (; done + 8 <= groups; done += 8) {
    blocks_in_registers<1>(seed, counter1, counter2, counter3, first_group + static_cast<std::uint32_t>(done),
                           words + 4 * done);
  }
#endif
  philox_words_scalar(seed, stream, layer, step, first_group + static_cast<std::uint32_t>(done), groups - done,
                      words + 4 * done);
}

}  // namespace hf
