// What the GPU tests need to know first: how many devices this build's CUDA backend (real or
// emulated) can use here (0 in a build without one), read from the backend registry so no test
// needs an #if; a backend on device 0 for those that found one; and whether a GPU test may skip
// at all: with HYPERFUSE_REQUIRE_GPU=1 (bench/device_check.sh sets it) a GPU test that finds no
// device fails instead, so a GPU machine whose driver or build cannot reach the GPU does not pass
// by skipping. In the emulated build (-DHYPERFUSE_CUDA=EMULATE) the emulated device is always
// there, so nothing GPU-related skips.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "kernels/backend_registry.hpp"
#if HYPERFUSE_CUDA_EMULATED
#include "tests/cuda_emulation/emulation_control.hpp"
#endif

namespace hf::testing {

inline const BackendEntry* gpu_backend_entry() { return find_backend("cuda"); }

// Throws DeviceError when CUDA is there but broken (a driver too old for this build, ...).
inline int visible_gpus() {
  const BackendEntry* entry = gpu_backend_entry();
  return entry == nullptr ? 0 : entry->device_count();
}

inline bool gpu_visible() { return visible_gpus() > 0; }

inline bool gpu_required() {
  const char* value = std::getenv("HYPERFUSE_REQUIRE_GPU");
  return value != nullptr && *value != '\0' && std::string(value) != "0";
}

// nullptr in a build without the CUDA backend.
inline std::unique_ptr<Backend> make_gpu_backend() {
  const BackendEntry* entry = gpu_backend_entry();
  return entry == nullptr ? nullptr : entry->make(0);
}

// The device memory the CUDA emulation's runtime holds allocated on `device`, counted by the
// runtime itself; nothing (nullopt) on a real GPU, whose driver rounds allocations up to its own
// granularity, and in a build without the emulation.
inline std::optional<std::size_t> emulated_device_bytes_allocated([[maybe_unused]] int device) {
#if HYPERFUSE_CUDA_EMULATED
  return hf_emu::device_bytes_allocated(device);
#else
  return std::nullopt;
#endif
}

// Whether the CUDA emulation's race check records the launches made now: nullopt where this
// build has none (a real GPU, the AddressSanitizer build, no CUDA backend).
inline std::optional<bool> emulated_race_check_recording() {
#if HYPERFUSE_CUDA_EMULATED
  if (hf_emu::race_check_built()) return hf_emu::race_check_enabled();
#endif
  return std::nullopt;
}

// While it lives, the CUDA emulation's race check records nothing (it costs about five times the
// run time on the fused kernels' shared-memory tiles): for the large emulated runs, while small
// ones keep it. Nothing happens on a GPU or in the AddressSanitizer build, which has no race check.
class WithoutRaceCheck {
 public:
  WithoutRaceCheck() {
#if HYPERFUSE_CUDA_EMULATED
    was_on_ = hf_emu::race_check_enabled();
    hf_emu::enable_race_check(false);
#endif
  }
  ~WithoutRaceCheck() {
#if HYPERFUSE_CUDA_EMULATED
    hf_emu::enable_race_check(was_on_);
#endif
  }
  WithoutRaceCheck(const WithoutRaceCheck&) = delete;
  WithoutRaceCheck& operator=(const WithoutRaceCheck&) = delete;

 private:
  [[maybe_unused]] bool was_on_ = false;
};

}  // namespace hf::testing

// In a test or SetUp(): skips (or, with HYPERFUSE_REQUIRE_GPU=1, fails) when no CUDA device is
// visible; `what` says what the test needed the GPU for.
#define HF_SKIP_UNLESS_GPU_VISIBLE(what)                                                         \
  do {                                                                                           \
    if (!::hf::testing::gpu_visible()) {                                                         \
      if (::hf::testing::gpu_required()) FAIL() << "HYPERFUSE_REQUIRE_GPU is set, but " << what; \
      GTEST_SKIP() << what;                                                                      \
    }                                                                                            \
  } while (0)
