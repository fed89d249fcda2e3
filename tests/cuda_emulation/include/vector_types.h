// Host emulation of CUDA's <vector_types.h> (see tests/cuda_emulation/README.md): the vector
// types the kernels load and store 8 and 16 bytes at a time with, with CUDA's alignment (a
// float4 is 16-byte aligned, a float2 8-byte), so a misaligned vector access is undefined
// behaviour here as it is a cudaErrorMisalignedAddress there (UBSan reports it in the ASan build).
#pragma once

struct alignas(8) float2 {
  float x, y;
};

struct alignas(16) float4 {
  float x, y, z, w;
};

struct alignas(8) int2 {
  int x, y;
};

struct alignas(16) int4 {
  int x, y, z, w;
};
