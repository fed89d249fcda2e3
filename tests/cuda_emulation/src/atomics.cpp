// CUDA's atomics, performed for real (a compare-and-swap loop, sequentially consistent) and
// recorded as atomics for the race check, for the types CUDA's overload set names.
#include <type_traits>

#include "tests/cuda_emulation/src/race_check.hpp"

namespace hf_emu {
namespace {

template <typename T>
T updated(T old, AtomicOp op, T operand) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;  // wrapping arithmetic, as the hardware's
    switch (op) {
      case AtomicOp::Add: return static_cast<T>(static_cast<U>(old) + static_cast<U>(operand));
      case AtomicOp::Sub: return static_cast<T>(static_cast<U>(old) - static_cast<U>(operand));
      case AtomicOp::Exchange: return operand;
      case AtomicOp::Min: return operand < old ? operand : old;
      case AtomicOp::Max: return old < operand ? operand : old;
      case AtomicOp::And: return old & operand;
      case AtomicOp::Or: return old | operand;
      case AtomicOp::Xor: return old ^ operand;
      case AtomicOp::Increment: return old >= operand ? T{0} : static_cast<T>(old + 1);
      case AtomicOp::Decrement: return (old == 0 || old > operand) ? operand : static_cast<T>(old - 1);
    }
  } else {
    switch (op) {
      case AtomicOp::Add: return old + operand;
      case AtomicOp::Sub: return old - operand;
      case AtomicOp::Exchange: return operand;
      default: break;
    }
  }
  return old;
}

}  // namespace

template <typename T>
__attribute__((noinline)) T atomic_update(T* address, AtomicOp op, T operand) {
  race::record_atomic(address, sizeof(T), __builtin_return_address(0));
  T old;
  __atomic_load(address, &old, __ATOMIC_SEQ_CST);
  for (;;) {
    T desired = updated(old, op, operand);
    if (__atomic_compare_exchange(address, &old, &desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return old;
  }
}

template <typename T>
__attribute__((noinline)) T atomic_compare_exchange(T* address, T compare, T value) {
  race::record_atomic(address, sizeof(T), __builtin_return_address(0));
  __atomic_compare_exchange(address, &compare, &value, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return compare;  // the old value, whether or not it matched
}

template int atomic_update<int>(int*, AtomicOp, int);
template unsigned int atomic_update<unsigned int>(unsigned int*, AtomicOp, unsigned int);
template long long atomic_update<long long>(long long*, AtomicOp, long long);
template unsigned long long atomic_update<unsigned long long>(unsigned long long*, AtomicOp, unsigned long long);
template float atomic_update<float>(float*, AtomicOp, float);
template double atomic_update<double>(double*, AtomicOp, double);
template int atomic_compare_exchange<int>(int*, int, int);
template unsigned int atomic_compare_exchange<unsigned int>(unsigned int*, unsigned int, unsigned int);
template unsigned long long atomic_compare_exchange<unsigned long long>(unsigned long long*, unsigned long long,
                                                                        unsigned long long);
template unsigned short atomic_compare_exchange<unsigned short>(unsigned short*, unsigned short, unsigned short);

}  // namespace hf_emu
