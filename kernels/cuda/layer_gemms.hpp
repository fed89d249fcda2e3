// The three GEMMs of a linear layer for a run of consecutive networks of a pack, as cuBLAS
// strided-batched SGEMMs (one batch entry per network). Row-major buffers read column-major:
//   X [rows][in]  is Xc  (in x rows),  ld in       (the previous layer's output, or the batch)
//   W [out][in]   is Wc  (in x out),   ld in       (at the layer's weight offset per network)
//   Z [rows][out] is Zc  (out x rows), ld out
//   forward         Zc  = Wc^T Xc     (out x rows)
//   weight gradient dWc = Xc dZc^T    (in x out)
//   input gradient  dXc = Wc dZc      (in x rows)
// Strides: parameters per network for W and dW, max_rows * width for layer buffers, 0 for the
// batch (every network reads the same rows, so the first layer is one call over the pack).
#pragma once

#include <cublas_v2.h>

#include <cstddef>

namespace hf {

struct GemmShape {
  int in = 0, out = 0, rows = 0;
  int count = 0;  // networks in the run
  long long parameter_stride = 0;
  long long input_stride = 0;  // 0 when every network reads the batch
  long long output_stride = 0;
};

void gemm_forward(cublasHandle_t handle, const GemmShape& shape, const float* weights, const float* input,
                  float* pre_activation);
void gemm_weight_gradient(cublasHandle_t handle, const GemmShape& shape, const float* input, const float* gradient,
                          float* weight_gradient);
void gemm_input_gradient(cublasHandle_t handle, const GemmShape& shape, const float* weights, const float* gradient,
                         float* input_gradient);

}  // namespace hf
