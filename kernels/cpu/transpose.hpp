// out[c][r] = in[r][c] for a rows x cols row-major matrix: the CPU trainer keeps a transposed
// copy of every weight matrix for its forward GEMM (libxsmm has no transposed-A kernels).
#pragma once

namespace hf {

void transpose(const float* in, int rows, int cols, float* out);

}  // namespace hf
