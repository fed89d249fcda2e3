// Marks math that both the CPU trainer and the CUDA kernels compile, so the CPU tests cover
// exactly the arithmetic the GPU runs.
#pragma once

#if defined(__CUDACC__)
#define HF_HOST_DEVICE __host__ __device__ __forceinline__
#elif HYPERFUSE_EMULATED_DEVICE_CODE
// The kernels compiled as C++ for the CUDA emulation: always inlined, as nvcc's __forceinline__,
// so every kernel runs its own (race-check instrumented) copy, never the CPU build's.
#define HF_HOST_DEVICE inline __attribute__((always_inline))
#else
#define HF_HOST_DEVICE inline
#endif
