// The cuBLAS subset (cublas_v2.h): handles bound to the device current at cublasCreate, cuBLAS's
// argument checks and status codes, and SGEMMs with cuBLAS's column-major semantics queued as
// work on the handle's stream. Each element is a float sum over k in order; beta == 0 leaves C
// unread (so NaN there does not propagate, as in cuBLAS); CUBLAS_TF32_TENSOR_OP_MATH rounds the
// inputs to TF32 as tensor cores do. Besides cuBLAS's own checks, every batch entry of every
// matrix must lie in one device allocation of the handle's device and the output entries must
// not overlap each other or the inputs.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#include "cublas_v2.h"
#include "tests/cuda_emulation/src/streams.hpp"

struct cublasContext {
  int device = 0;
  cudaStream_t stream = nullptr;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
  cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;
};

using namespace hf_emu;

namespace {

std::set<cublasHandle_t>& live_handles() {  // guarded by the runtime mutex
  static std::set<cublasHandle_t>* handles = new std::set<cublasHandle_t>();
  return *handles;
}

bool live(cublasHandle_t handle) { return handle != nullptr && live_handles().count(handle) != 0; }

// A float rounded to TF32 (10 explicit mantissa bits), to nearest with ties away from zero.
float tf32(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7f800000u) != 0x7f800000u) bits = (bits + 0x1000u) & 0xffffe000u;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

struct Matrix {
  const char* name;
  const float* pointer;
  int rows, columns, leading;
  long long stride;
};

std::size_t extent_bytes(const Matrix& m) {
  return (static_cast<std::size_t>(m.leading) * (m.columns - 1) + m.rows) * sizeof(float);
}

// [first byte, last byte + 1) over every batch entry.
std::pair<std::uintptr_t, std::uintptr_t> hull(const Matrix& m, int batch) {
  const auto base = reinterpret_cast<std::intptr_t>(m.pointer);
  const std::intptr_t last = base + static_cast<std::intptr_t>(m.stride) * (batch - 1) * 4;
  return {static_cast<std::uintptr_t>(std::min(base, last)),
          static_cast<std::uintptr_t>(std::max(base, last)) + extent_bytes(m)};
}

// What is wrong with where `m` lies, or "". Runtime mutex held.
std::string check_matrix(const Runtime& state, const char* call, const Matrix& m, int batch, int device) {
  const auto [begin, end] = hull(m, batch);
  const std::string what = std::string(call) + ": matrix " + m.name;
  if (m.pointer == nullptr) return what + " is a null pointer";
  const Allocation* a = state.find(reinterpret_cast<const void*>(begin));
  if (a == nullptr || a->pinned())
    return what + " is not device memory (" + (a != nullptr ? describe(*a) : std::string("host memory, or freed")) +
           ")";
  if (a->device != device)
    return what + " is in " + describe(*a) + ", but the handle works on device " + std::to_string(device);
  if (!a->contains(begin, end - begin))
    return what + " (" + std::to_string(batch) + " entries of " + std::to_string(m.rows) + " x " +
           std::to_string(m.columns) + ", leading dimension " + std::to_string(m.leading) + ", stride " +
           std::to_string(m.stride) + ") spans bytes " + std::to_string(begin - a->begin) + " to " +
           std::to_string(end - a->begin) + " of " + describe(*a) + ": " + std::to_string(end - a->begin - a->size) +
           " bytes past its end";
  return {};
}

struct Gemm {
  cublasOperation_t transa, transb;
  int m, n, k;
  float alpha, beta;
  const float* alpha_device;  // device pointer mode: read when the GEMM runs
  const float* beta_device;
  const float* A;
  int lda;
  long long stride_a;
  const float* B;
  int ldb;
  long long stride_b;
  float* C;
  int ldc;
  long long stride_c;
  int batch;
  bool tf32;
};

void run_gemm(const Gemm& g) {
  const float alpha = g.alpha_device != nullptr ? *g.alpha_device : g.alpha;
  const float beta = g.beta_device != nullptr ? *g.beta_device : g.beta;
  std::vector<float> a(static_cast<std::size_t>(g.m) * g.k), b(static_cast<std::size_t>(g.k) * g.n), column(g.m);
  for (int e = 0; e < g.batch; ++e) {
    const float* A = g.A + g.stride_a * e;
    const float* B = g.B + g.stride_b * e;
    float* C = g.C + g.stride_c * e;
    const bool read_inputs = g.k > 0 && alpha != 0.0f;
    if (read_inputs) {
      // op(A) as m x k and op(B) as k x n, column-major and contiguous.
      for (int p = 0; p < g.k; ++p)
        for (int r = 0; r < g.m; ++r) {
          const float v = g.transa == CUBLAS_OP_N ? A[r + static_cast<std::size_t>(p) * g.lda]
                                                  : A[p + static_cast<std::size_t>(r) * g.lda];
          a[r + static_cast<std::size_t>(p) * g.m] = g.tf32 ? tf32(v) : v;
        }
      for (int j = 0; j < g.n; ++j)
        for (int p = 0; p < g.k; ++p) {
          const float v = g.transb == CUBLAS_OP_N ? B[p + static_cast<std::size_t>(j) * g.ldb]
                                                  : B[j + static_cast<std::size_t>(p) * g.ldb];
          b[p + static_cast<std::size_t>(j) * g.k] = g.tf32 ? tf32(v) : v;
        }
    }
    for (int j = 0; j < g.n; ++j) {
      std::fill(column.begin(), column.end(), 0.0f);
      if (read_inputs) {
        for (int p = 0; p < g.k; ++p) {
          const float s = b[p + static_cast<std::size_t>(j) * g.k];
          const float* ap = a.data() + static_cast<std::size_t>(p) * g.m;
          for (int r = 0; r < g.m; ++r) column[r] += ap[r] * s;
        }
      }
      float* c = C + static_cast<std::size_t>(j) * g.ldc;
      for (int r = 0; r < g.m; ++r) c[r] = beta == 0.0f ? alpha * column[r] : alpha * column[r] + beta * c[r];
    }
  }
}

cublasStatus_t invalid(const std::string& message) {
  report_violation(message);
  return CUBLAS_STATUS_INVALID_VALUE;
}

cublasStatus_t invalid_after_unlock(std::unique_lock<std::mutex>& lock, const std::string& message) {
  lock.unlock();
  return invalid(message);
}

cublasStatus_t gemm(const char* call, cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m,
                    int n, int k, const float* alpha, const float* A, int lda, long long stride_a, const float* B,
                    int ldb, long long stride_b, const float* beta, float* C, int ldc, long long stride_c, int batch) {
  Runtime& state = runtime();
  std::string problem;
  {
    std::unique_lock<std::mutex> lock(state.mutex);
    if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    const cublasContext& h = *handle;
    const auto valid_op = [](cublasOperation_t op) {
      return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C;
    };
    const std::string name = call;
    if (!valid_op(transa) || !valid_op(transb)) return CUBLAS_STATUS_INVALID_VALUE;
    const int a_rows = transa == CUBLAS_OP_N ? m : k, a_columns = transa == CUBLAS_OP_N ? k : m;
    const int b_rows = transb == CUBLAS_OP_N ? k : n, b_columns = transb == CUBLAS_OP_N ? n : k;
    if (m < 0 || n < 0 || k < 0 || batch < 0)
      problem = name + ": m = " + std::to_string(m) + ", n = " + std::to_string(n) + ", k = " + std::to_string(k) +
                ", batchCount = " + std::to_string(batch) + ": none may be negative";
    else if (lda < std::max(1, a_rows))
      problem = name + ": lda = " + std::to_string(lda) + " < " + std::to_string(std::max(1, a_rows)) +
                ", the rows of A as stored";
    else if (ldb < std::max(1, b_rows))
      problem = name + ": ldb = " + std::to_string(ldb) + " < " + std::to_string(std::max(1, b_rows)) +
                ", the rows of B as stored";
    else if (ldc < std::max(1, m))
      problem = name + ": ldc = " + std::to_string(ldc) + " < " + std::to_string(std::max(1, m)) + ", the rows of C";
    else if (alpha == nullptr || beta == nullptr)
      problem = name + ": alpha and beta must not be null";
    if (problem.empty() && (m == 0 || n == 0 || batch == 0)) return CUBLAS_STATUS_SUCCESS;
    if (problem.empty() && h.device != current_device())
      problem = name + ": the handle was created on device " + std::to_string(h.device) + ", but device " +
                std::to_string(current_device()) + " is current";
    if (!problem.empty()) return invalid_after_unlock(lock, problem);
    const cudaError_t unusable = device_unusable(state, h.device);
    if (unusable != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;
    cudaError_t error;
    const int saved_device = current_device();
    current_device() = h.device;
    const std::shared_ptr<Stream> stream = resolve_stream(state, h.stream, error);
    current_device() = saved_device;
    if (stream == nullptr) return CUBLAS_STATUS_EXECUTION_FAILED;

    Gemm g{transa,   transb,
           m,        n,
           k,        0.0f,
           0.0f,     nullptr,
           nullptr,  A,
           lda,      stride_a,
           B,        ldb,
           stride_b, C,
           ldc,      stride_c,
           batch,    (h.math & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION) == CUBLAS_TF32_TENSOR_OP_MATH};
    const Allocation* alpha_memory = state.find(alpha);
    const Allocation* beta_memory = state.find(beta);
    const bool alpha_on_device = alpha_memory != nullptr && !alpha_memory->pinned();
    const bool beta_on_device = beta_memory != nullptr && !beta_memory->pinned();
    if (problem.empty()) {
      if (h.pointer_mode == CUBLAS_POINTER_MODE_HOST) {
        if (alpha_on_device || beta_on_device)
          problem =
              name + ": alpha or beta is device memory, but the handle's pointer mode is CUBLAS_POINTER_MODE_HOST";
        g.alpha = *alpha;  // host scalars are read now
        if (problem.empty()) g.beta = *beta;
      } else {
        if (!alpha_on_device || !beta_on_device)
          problem = name +
                    ": alpha or beta is not device memory, but the handle's pointer mode is "
                    "CUBLAS_POINTER_MODE_DEVICE";
        g.alpha_device = alpha;
        g.beta_device = beta;
      }
    }
    const Matrix a{"A", A, a_rows, a_columns, lda, stride_a};
    const Matrix b{"B", B, b_rows, b_columns, ldb, stride_b};
    const Matrix c{"C", C, m, n, ldc, stride_c};
    if (problem.empty() && k > 0) problem = check_matrix(state, call, a, batch, h.device);
    if (problem.empty() && k > 0) problem = check_matrix(state, call, b, batch, h.device);
    if (problem.empty()) problem = check_matrix(state, call, c, batch, h.device);
    if (problem.empty() && batch > 1 &&
        static_cast<std::size_t>(stride_c < 0 ? -stride_c : stride_c) * sizeof(float) < extent_bytes(c))
      problem = name + ": the " + std::to_string(batch) +
                " entries of C overlap (strideC = " + std::to_string(stride_c) + " elements, each entry spans " +
                std::to_string(extent_bytes(c) / 4) + ")";
    if (problem.empty() && k > 0) {
      const auto [c_begin, c_end] = hull(c, batch);
      for (const Matrix* input : {&a, &b}) {
        const auto [begin, end] = hull(*input, batch);
        if (begin < c_end && c_begin < end) {
          problem = name + ": the output C overlaps the input " + input->name;
          break;
        }
      }
    }
    if (problem.empty()) {
      ++state.counters.blas_calls;
      WorkItem item{call, {}, [g] {
                      run_gemm(g);
                      return cudaSuccess;
                    }};
      // What it reads and writes, for the ordering check (C is read too unless beta is 0).
      if (k > 0) {
        for (const Matrix* input : {&a, &b}) {
          const auto [begin, end] = hull(*input, batch);
          item.touches.push_back({begin, end, false});
        }
      }
      for (const float* scalar : {g.alpha_device, g.beta_device}) {
        const auto at = reinterpret_cast<std::uintptr_t>(scalar);
        if (scalar != nullptr) item.touches.push_back({at, at + sizeof(float), false});
      }
      const auto [c_begin, c_end] = hull(c, batch);
      item.touches.push_back({c_begin, c_end, true});
      enqueue(state, stream, std::move(item));
      return CUBLAS_STATUS_SUCCESS;
    }
  }
  return invalid(problem);
}

}  // namespace

extern "C" {

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const int device = current_device();
  if (device_unusable(state, device) != cudaSuccess) return CUBLAS_STATUS_NOT_INITIALIZED;
  auto* context = new cublasContext;
  context->device = device;
  live_handles().insert(context);
  *handle = context;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  live_handles().erase(handle);
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetVersion(cublasHandle_t handle, int* version) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (version == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *version = CUBLAS_VERSION;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  Runtime& state = runtime();
  std::string problem;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (stream != nullptr && stream != cudaStreamLegacy && stream != cudaStreamPerThread) {
      const auto it = state.streams.find(stream);
      if (it == state.streams.end()) {
        problem = "cublasSetStream: not a live stream";
      } else if (it->second->device != handle->device) {
        problem = "cublasSetStream: the stream belongs to device " + std::to_string(it->second->device) +
                  ", the handle to device " + std::to_string(handle->device);
      }
    }
    if (problem.empty()) {
      handle->stream = stream;
      return CUBLAS_STATUS_SUCCESS;
    }
  }
  return invalid(problem);
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (stream == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  const int base = mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  if (base < CUBLAS_DEFAULT_MATH || base > CUBLAS_FP32_EMULATED_BF16X9_MATH) return CUBLAS_STATUS_INVALID_VALUE;
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->math;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode(cublasHandle_t handle, cublasPointerMode_t mode) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode != CUBLAS_POINTER_MODE_HOST && mode != CUBLAS_POINTER_MODE_DEVICE) return CUBLAS_STATUS_INVALID_VALUE;
  handle->pointer_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetPointerMode(cublasHandle_t handle, cublasPointerMode_t* mode) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->pointer_mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR: return "error detected trying to check the license";
  }
  return "unknown error";
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
  const ApiCall call(__builtin_return_address(0));
  return gemm("cublasSgemm", handle, transa, transb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                         int m, int n, int k, const float* alpha, const float* A, int lda,
                                         long long int strideA, const float* B, int ldb, long long int strideB,
                                         const float* beta, float* C, int ldc, long long int strideC, int batchCount) {
  const ApiCall call(__builtin_return_address(0));
  return gemm("cublasSgemmStridedBatched", handle, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB,
              beta, C, ldc, strideC, batchCount);
}

}  // extern "C"
