// Marks math that both the CPU trainer and the CUDA kernels compile, so the CPU tests cover
// exactly the arithmetic the GPU runs.
#pragma once

#if defined(__CUDACC__)
#define HF_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define HF_HOST_DEVICE inline
#endif
