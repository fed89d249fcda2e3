// What CUDA device code sees in the emulation: the function qualifiers, the built-in index
// variables, block barriers, warp collectives, atomics and the intrinsics the kernels use.
// Every GPU thread runs as a fiber (block_scheduler.cpp); a barrier or warp collective suspends it
// until every thread it waits for has arrived, and the scheduler checks CUDA's rules as it does:
// all threads of a block reach the same __syncthreads, every lane named in a warp mask takes part
// in the same collective, a shuffle reads only a lane that takes part.
#pragma once

#include <math.h>  // isfinite, expf, ... in the global namespace, as CUDA device code has them

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cuda_runtime_api.h"

// Qualifiers: device code is host code here. __shared__ variables are thread_local: each OS
// thread runs one block at a time, so a block's threads (fibers of that OS thread) share them.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __shared__ thread_local
#define __constant__
#define __align__(n) alignas(n)

inline constexpr int warpSize = 32;

namespace hf_emu {

// Where a barrier or collective is called, for CUDA's "same call for every thread" rules and
// for messages.
struct Site {
  const char* file;
  int line;
};

namespace detail {

// The running GPU thread's built-ins, set by the block scheduler before it resumes a fiber.
struct ThreadBuiltins {
  uint3 thread_index;
  uint3 block_index;
  dim3 block_dim;
  dim3 grid_dim;
};
extern thread_local ThreadBuiltins builtins;

}  // namespace detail

enum class BarrierKind : std::uint8_t { Plain, Count, And, Or };
// Suspends the calling GPU thread until every thread of its block has reached this barrier;
// returns the count of true predicates (for the _count/_and/_or forms).
int block_barrier(BarrierKind kind, int predicate, Site site);

enum class WarpOp : std::uint8_t {
  Shuffle,
  ShuffleUp,
  ShuffleDown,
  ShuffleXor,
  Ballot,
  Any,
  All,
  Sync,
  ActiveMask,
  ReduceAdd,
  ReduceMin,
  ReduceMax,
  ReduceAnd,
  ReduceOr,
  ReduceXor,
  MatchAny
};

struct WarpRequest {
  WarpOp op;
  unsigned mask;
  std::uint64_t value;  // the lane's value (its bytes, zero-extended) or predicate
  int operand;          // source lane, delta or lane mask
  int width;
  int value_bytes;
  bool value_signed;
  Site site;
};
// Suspends the calling lane until every lane of `mask` has called the same collective, then
// returns this lane's result.
std::uint64_t warp_collective(const WarpRequest& request);

// Ends the calling GPU thread's kernel with `error` (sticky, as a device-side fault is) after
// reporting `message` as a program error: for __trap(), failed CUB contracts and the like.
[[noreturn]] void abort_kernel(cudaError_t error, const char* message);

// The block's dynamic shared memory (the launch's shared_bytes), a fresh allocation per block
// filled with 0xFF bytes (NaN as float) when the block starts.
void* dynamic_shared_memory();

template <typename T>
T shuffle(WarpOp op, unsigned mask, T value, int operand, int width, Site site) {
  static_assert(std::is_arithmetic_v<T> && sizeof(T) <= 8, "CUDA shuffles move one arithmetic value of up to 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  const std::uint64_t result =
      warp_collective(WarpRequest{op, mask, bits, operand, width, static_cast<int>(sizeof(T)), false, site});
  T out;
  std::memcpy(&out, &result, sizeof(T));
  return out;
}

template <typename T>
T warp_reduce(WarpOp op, unsigned mask, T value, Site site) {
  static_assert(std::is_integral_v<T> && sizeof(T) == 4, "__reduce_*_sync take int or unsigned");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  const std::uint64_t result = warp_collective(WarpRequest{op, mask, bits, 0, warpSize, 4, std::is_signed_v<T>, site});
  T out;
  std::memcpy(&out, &result, sizeof(T));
  return out;
}

// Atomics run for real (an OS thread may run blocks of two launches of different host threads),
// and the race check records them as atomics; defined in atomics.cpp for the types CUDA has.
enum class AtomicOp : std::uint8_t { Add, Sub, Exchange, Min, Max, And, Or, Xor, Increment, Decrement };
template <typename T>
T atomic_update(T* address, AtomicOp op, T operand);
template <typename T>
T atomic_compare_exchange(T* address, T compare, T value);

}  // namespace hf_emu

#define threadIdx (static_cast<const uint3&>(::hf_emu::detail::builtins.thread_index))
#define blockIdx (static_cast<const uint3&>(::hf_emu::detail::builtins.block_index))
#define blockDim (static_cast<const dim3&>(::hf_emu::detail::builtins.block_dim))
#define gridDim (static_cast<const dim3&>(::hf_emu::detail::builtins.grid_dim))

// The call site of a barrier or collective: default arguments evaluated where it is called.
#define HF_EMU_CALL_SITE const char *file = __builtin_FILE(), int line = __builtin_LINE()
#define HF_EMU_SITE \
  ::hf_emu::Site { file, line }

inline void __syncthreads(HF_EMU_CALL_SITE) { hf_emu::block_barrier(hf_emu::BarrierKind::Plain, 0, HF_EMU_SITE); }
inline int __syncthreads_count(int predicate, HF_EMU_CALL_SITE) {
  return hf_emu::block_barrier(hf_emu::BarrierKind::Count, predicate != 0, HF_EMU_SITE);
}
inline int __syncthreads_and(int predicate, HF_EMU_CALL_SITE) {
  return hf_emu::block_barrier(hf_emu::BarrierKind::And, predicate != 0, HF_EMU_SITE) != 0;
}
inline int __syncthreads_or(int predicate, HF_EMU_CALL_SITE) {
  return hf_emu::block_barrier(hf_emu::BarrierKind::Or, predicate != 0, HF_EMU_SITE) != 0;
}

inline void __syncwarp(unsigned mask = 0xffffffffu, HF_EMU_CALL_SITE) {
  hf_emu::warp_collective(hf_emu::WarpRequest{hf_emu::WarpOp::Sync, mask, 0, 0, warpSize, 0, false, HF_EMU_SITE});
}
template <typename T>
T __shfl_sync(unsigned mask, T value, int source_lane, int width = warpSize, HF_EMU_CALL_SITE) {
  return hf_emu::shuffle(hf_emu::WarpOp::Shuffle, mask, value, source_lane, width, HF_EMU_SITE);
}
template <typename T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = warpSize, HF_EMU_CALL_SITE) {
  return hf_emu::shuffle(hf_emu::WarpOp::ShuffleUp, mask, value, static_cast<int>(delta), width, HF_EMU_SITE);
}
template <typename T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = warpSize, HF_EMU_CALL_SITE) {
  return hf_emu::shuffle(hf_emu::WarpOp::ShuffleDown, mask, value, static_cast<int>(delta), width, HF_EMU_SITE);
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = warpSize, HF_EMU_CALL_SITE) {
  return hf_emu::shuffle(hf_emu::WarpOp::ShuffleXor, mask, value, lane_mask, width, HF_EMU_SITE);
}
inline unsigned __ballot_sync(unsigned mask, int predicate, HF_EMU_CALL_SITE) {
  return static_cast<unsigned>(hf_emu::warp_collective(
      hf_emu::WarpRequest{hf_emu::WarpOp::Ballot, mask, predicate != 0, 0, warpSize, 4, false, HF_EMU_SITE}));
}
inline int __any_sync(unsigned mask, int predicate, HF_EMU_CALL_SITE) {
  return static_cast<int>(hf_emu::warp_collective(
      hf_emu::WarpRequest{hf_emu::WarpOp::Any, mask, predicate != 0, 0, warpSize, 4, false, HF_EMU_SITE}));
}
inline int __all_sync(unsigned mask, int predicate, HF_EMU_CALL_SITE) {
  return static_cast<int>(hf_emu::warp_collective(
      hf_emu::WarpRequest{hf_emu::WarpOp::All, mask, predicate != 0, 0, warpSize, 4, false, HF_EMU_SITE}));
}
inline unsigned __activemask(HF_EMU_CALL_SITE) {
  return static_cast<unsigned>(hf_emu::warp_collective(
      hf_emu::WarpRequest{hf_emu::WarpOp::ActiveMask, 0, 0, 0, warpSize, 4, false, HF_EMU_SITE}));
}
inline unsigned __match_any_sync(unsigned mask, unsigned value, HF_EMU_CALL_SITE) {
  return static_cast<unsigned>(hf_emu::warp_collective(
      hf_emu::WarpRequest{hf_emu::WarpOp::MatchAny, mask, value, 0, warpSize, 4, false, HF_EMU_SITE}));
}
#define HF_EMU_WARP_REDUCE(name, op)                                          \
  inline int name(unsigned mask, int value, HF_EMU_CALL_SITE) {               \
    return hf_emu::warp_reduce(hf_emu::WarpOp::op, mask, value, HF_EMU_SITE); \
  }                                                                           \
  inline unsigned name(unsigned mask, unsigned value, HF_EMU_CALL_SITE) {     \
    return hf_emu::warp_reduce(hf_emu::WarpOp::op, mask, value, HF_EMU_SITE); \
  }
HF_EMU_WARP_REDUCE(__reduce_add_sync, ReduceAdd)
HF_EMU_WARP_REDUCE(__reduce_min_sync, ReduceMin)
HF_EMU_WARP_REDUCE(__reduce_max_sync, ReduceMax)
HF_EMU_WARP_REDUCE(__reduce_and_sync, ReduceAnd)
HF_EMU_WARP_REDUCE(__reduce_or_sync, ReduceOr)
HF_EMU_WARP_REDUCE(__reduce_xor_sync, ReduceXor)
#undef HF_EMU_WARP_REDUCE

// Fences order a thread's own accesses; threads run one at a time here, so there is nothing to
// order. The race check does not treat a fence as synchronisation (see the README).
inline void __threadfence() {}
inline void __threadfence_block() {}
inline void __threadfence_system() {}

inline void __trap() { hf_emu::abort_kernel(cudaErrorLaunchFailure, "__trap() called"); }

// Atomics, with CUDA's overload set.
#define HF_EMU_ATOMIC(name, op, type) \
  inline type name(type* address, type value) { return hf_emu::atomic_update(address, hf_emu::AtomicOp::op, value); }
HF_EMU_ATOMIC(atomicAdd, Add, int)
HF_EMU_ATOMIC(atomicAdd, Add, unsigned int)
HF_EMU_ATOMIC(atomicAdd, Add, unsigned long long)
HF_EMU_ATOMIC(atomicAdd, Add, float)
HF_EMU_ATOMIC(atomicAdd, Add, double)
HF_EMU_ATOMIC(atomicSub, Sub, int)
HF_EMU_ATOMIC(atomicSub, Sub, unsigned int)
HF_EMU_ATOMIC(atomicExch, Exchange, int)
HF_EMU_ATOMIC(atomicExch, Exchange, unsigned int)
HF_EMU_ATOMIC(atomicExch, Exchange, unsigned long long)
HF_EMU_ATOMIC(atomicExch, Exchange, float)
HF_EMU_ATOMIC(atomicMin, Min, int)
HF_EMU_ATOMIC(atomicMin, Min, unsigned int)
HF_EMU_ATOMIC(atomicMin, Min, unsigned long long)
HF_EMU_ATOMIC(atomicMin, Min, long long)
HF_EMU_ATOMIC(atomicMax, Max, int)
HF_EMU_ATOMIC(atomicMax, Max, unsigned int)
HF_EMU_ATOMIC(atomicMax, Max, unsigned long long)
HF_EMU_ATOMIC(atomicMax, Max, long long)
HF_EMU_ATOMIC(atomicAnd, And, int)
HF_EMU_ATOMIC(atomicAnd, And, unsigned int)
HF_EMU_ATOMIC(atomicAnd, And, unsigned long long)
HF_EMU_ATOMIC(atomicOr, Or, int)
HF_EMU_ATOMIC(atomicOr, Or, unsigned int)
HF_EMU_ATOMIC(atomicOr, Or, unsigned long long)
HF_EMU_ATOMIC(atomicXor, Xor, int)
HF_EMU_ATOMIC(atomicXor, Xor, unsigned int)
HF_EMU_ATOMIC(atomicXor, Xor, unsigned long long)
HF_EMU_ATOMIC(atomicInc, Increment, unsigned int)
HF_EMU_ATOMIC(atomicDec, Decrement, unsigned int)
#undef HF_EMU_ATOMIC
inline int atomicCAS(int* address, int compare, int value) {
  return hf_emu::atomic_compare_exchange(address, compare, value);
}
inline unsigned int atomicCAS(unsigned int* address, unsigned int compare, unsigned int value) {
  return hf_emu::atomic_compare_exchange(address, compare, value);
}
inline unsigned long long atomicCAS(unsigned long long* address, unsigned long long compare, unsigned long long value) {
  return hf_emu::atomic_compare_exchange(address, compare, value);
}
inline unsigned short atomicCAS(unsigned short* address, unsigned short compare, unsigned short value) {
  return hf_emu::atomic_compare_exchange(address, compare, value);
}

// Intrinsics.
template <typename T>
inline T __ldg(const T* address) {
  return *address;
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline int __float_as_int(float x) {
  int r;
  std::memcpy(&r, &x, sizeof r);
  return r;
}
inline unsigned __float_as_uint(float x) {
  unsigned r;
  std::memcpy(&r, &x, sizeof r);
  return r;
}
inline float __int_as_float(int x) {
  float r;
  std::memcpy(&r, &x, sizeof r);
  return r;
}
inline float __uint_as_float(unsigned x) {
  float r;
  std::memcpy(&r, &x, sizeof r);
  return r;
}
inline long long __double_as_longlong(double x) {
  long long r;
  std::memcpy(&r, &x, sizeof r);
  return r;
}
inline double __longlong_as_double(long long x) {
  double r;
  std::memcpy(&r, &x, sizeof r);
  return r;
}
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
#define HF_EMU_MIN_MAX(type)                                \
  inline type min(type a, type b) { return b < a ? b : a; } \
  inline type max(type a, type b) { return a < b ? b : a; }
HF_EMU_MIN_MAX(int)
HF_EMU_MIN_MAX(unsigned int)
HF_EMU_MIN_MAX(long long)
HF_EMU_MIN_MAX(unsigned long long)
#undef HF_EMU_MIN_MAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
