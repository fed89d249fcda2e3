// What the GPU tests need to know first: how many CUDA devices this build can use here (0 in a
// build without the CUDA backend), a backend on device 0 for those that found one, and whether a
// GPU test may skip at all: with HYPERFUSE_REQUIRE_GPU=1 (bench/device_check.sh sets it) a GPU
// test that finds no device fails instead, so a GPU machine whose driver or build cannot reach
// the GPU does not pass by skipping. In the emulated build (-DHYPERFUSE_CUDA=EMULATE) the
// emulated device is always there, so nothing GPU-related skips.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "host/training/backend.hpp"
#if HYPERFUSE_HAVE_CUDA
#include "kernels/cuda/cuda_backend.hpp"
#endif

namespace hf::testing {

// Throws DeviceError when CUDA is there but broken (a driver too old for this build, ...).
inline int visible_gpus() {
#if HYPERFUSE_HAVE_CUDA
  return cuda_device_count();
#else
  return 0;
#endif
}

inline bool gpu_visible() { return visible_gpus() > 0; }

inline bool gpu_required() {
  const char* value = std::getenv("HYPERFUSE_REQUIRE_GPU");
  return value != nullptr && *value != '\0' && std::string(value) != "0";
}

// nullptr in a build without the CUDA backend.
inline std::unique_ptr<Backend> make_gpu_backend() {
#if HYPERFUSE_HAVE_CUDA
  return make_cuda_backend(0);
#else
  return nullptr;
#endif
}

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
