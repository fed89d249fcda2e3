// cuBLAS calls of a linear layer (see layer_gemms.hpp for the layouts). Plain FP32 SGEMMs: the
// handle's math mode is CUBLAS_DEFAULT_MATH, never TF32, so the GPU follows the CPU trajectory
// to float rounding. cuBLASLt with bias/activation epilogues is not used yet: the epilogues
// apply one activation to the whole batch, while a pack mixes activations per network, and the
// gain could not be measured without a GPU.
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/layer_gemms.hpp"

namespace hf {
namespace {

const float kOne = 1.0f, kZero = 0.0f;

}  // namespace

void gemm_forward(cublasHandle_t handle, const GemmShape& s, const float* weights, const float* input,
                  float* pre_activation) {
  HF_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, CUBLAS_OP_T, CUBLAS_OP_N, s.out, s.rows, s.in, &kOne, weights, s.in,
                                            s.parameter_stride, input, s.in, s.input_stride, &kZero, pre_activation,
                                            s.out, s.output_stride, s.count));
}

void gemm_weight_gradient(cublasHandle_t handle, const GemmShape& s, const float* input, const float* gradient,
                          float* weight_gradient) {
  HF_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_T, s.in, s.out, s.rows, &kOne, input, s.in,
                                            s.input_stride, gradient, s.out, s.output_stride, &kZero, weight_gradient,
                                            s.in, s.parameter_stride, s.count));
}

void gemm_input_gradient(cublasHandle_t handle, const GemmShape& s, const float* weights, const float* gradient,
                         float* input_gradient) {
  HF_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, s.in, s.rows, s.out, &kOne, weights, s.in,
                                            s.parameter_stride, gradient, s.out, s.output_stride, &kZero,
                                            input_gradient, s.in, s.input_stride, s.count));
}

}  // namespace hf
