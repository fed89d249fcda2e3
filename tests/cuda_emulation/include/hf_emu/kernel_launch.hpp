// Kernel launches in the emulation: HF_LAUNCH(kernel, grid, block, shared, stream)(args...)
// (kernels/cuda/kernel_launch.hpp) becomes launch_kernel(...)(args...), which copies the
// arguments as CUDA does, checks the configuration and every device pointer among them at once
// (errors reach cudaGetLastError), and queues the launch on the stream; it runs when the stream
// is synchronised.
//
// A struct passed by value that holds device pointers lists them for the check with a function
// found by argument-dependent lookup, declared beside the struct:
//   template <typename Visit> void emulated_device_pointers(const MyView& v, Visit&& visit) {
//     visit(v.weights, "weights"); visit(v.output, "output");
//   }
// Any other class type as a kernel argument is a compile error, so a new struct cannot carry a
// host pointer past the check unnoticed.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cuda_runtime_api.h"

namespace hf_emu {

// One pointer among a launch's arguments: argument `argument` (0-based), or its member `member`.
struct KernelPointer {
  const void* pointer;
  int argument;
  const char* member;  // nullptr for a pointer argument
};

struct LaunchConfiguration {
  const char* kernel_name;
  const void* kernel;
  dim3 grid;
  dim3 block;
  std::size_t shared_bytes;
  cudaStream_t stream;
};

// Runs the kernel's body for the current GPU thread on the launch's copy of the arguments.
using ThreadBody = void (*)(const void* arguments);

// The CUDA backend's count of training steps (steps summed over networks), for the counters.
void count_training_steps(long long steps);
// The architectures the emulated build holds code for, as a CMake list ("75-real;...;120-virtual":
// HYPERFUSE_EMU_BUILT_ARCHITECTURES), for the backend's messages.
std::string built_architectures();
// The CUDA backend's launches of the fused training kernel (an epoch may take several).
void count_fused_epoch_launch();

// Checks and queues a launch (launch.cpp); errors set the calling thread's last error.
void submit_launch(const LaunchConfiguration& configuration, const std::vector<KernelPointer>& pointers,
                   std::shared_ptr<const void> arguments, ThreadBody body);

namespace detail {

struct PointerCollector {
  std::vector<KernelPointer>* pointers;
  int argument;
  void operator()(const void* pointer, const char* member) const { pointers->push_back({pointer, argument, member}); }
};

template <typename T, typename = void>
struct ListsDevicePointers : std::false_type {};
template <typename T>
struct ListsDevicePointers<
    T, std::void_t<decltype(emulated_device_pointers(std::declval<const T&>(), std::declval<PointerCollector&>()))>>
    : std::true_type {};

template <typename T>
inline constexpr bool kAlwaysFalse = false;

template <typename T>
void collect_pointers(const T& value, int argument, std::vector<KernelPointer>& pointers) {
  static_assert(!std::is_reference_v<T>, "a kernel cannot take a reference to host memory");
  if constexpr (std::is_pointer_v<T>) {
    pointers.push_back({static_cast<const void*>(value), argument, nullptr});
  } else if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>) {
    // a value: nothing to check
  } else if constexpr (ListsDevicePointers<T>::value) {
    PointerCollector collect{&pointers, argument};
    emulated_device_pointers(value, collect);
  } else {
    static_assert(kAlwaysFalse<T>,
                  "a kernel argument of class type must list its device pointers for the emulation's check: declare "
                  "template <typename Visit> void emulated_device_pointers(const T&, Visit&& visit) beside it, "
                  "calling visit(pointer, \"member\") for each pointer member (none for a plain struct); see "
                  "tests/cuda_emulation/README.md");
  }
}

template <typename... Params>
struct BoundKernel {
  void (*kernel)(Params...);
  std::tuple<std::decay_t<Params>...> arguments;

  static void run(const void* bound) {
    const BoundKernel& self = *static_cast<const BoundKernel*>(bound);
    std::apply(self.kernel, self.arguments);  // each GPU thread gets its own copy of every argument
  }
};

}  // namespace detail

template <typename... Params>
class KernelLaunch {
 public:
  KernelLaunch(void (*kernel)(Params...), const LaunchConfiguration& configuration)
      : kernel_(kernel), configuration_(configuration) {}

  // Inlined, so the launch's call site (for the emulation's messages) is the program's line.
  template <typename... Args>
  __attribute__((always_inline)) void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params), "wrong number of kernel arguments");
    using Bound = detail::BoundKernel<Params...>;
    auto bound = std::make_shared<Bound>(Bound{
        kernel_, std::tuple<std::decay_t<Params>...>(static_cast<std::decay_t<Params>>(std::forward<Args>(args))...)});
    std::vector<KernelPointer> pointers;
    collect_all(bound->arguments, pointers, std::index_sequence_for<Params...>{});
    submit_launch(configuration_, pointers, std::shared_ptr<const void>(bound, bound.get()), &Bound::run);
  }

 private:
  template <typename Tuple, std::size_t... I>
  static void collect_all(const Tuple& arguments, std::vector<KernelPointer>& pointers, std::index_sequence<I...>) {
    (detail::collect_pointers(std::get<I>(arguments), static_cast<int>(I), pointers), ...);
  }

  void (*kernel_)(Params...);
  LaunchConfiguration configuration_;
};

template <typename... Params>
KernelLaunch<Params...> launch_kernel(void (*kernel)(Params...), const char* kernel_name, dim3 grid, dim3 block,
                                      std::size_t shared_bytes, cudaStream_t stream) {
  return KernelLaunch<Params...>(kernel, LaunchConfiguration{kernel_name, reinterpret_cast<const void*>(kernel), grid,
                                                             block, shared_bytes, stream});
}

}  // namespace hf_emu
