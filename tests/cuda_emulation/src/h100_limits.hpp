// The limits of the emulated device, those of an H100 SXM (compute capability 9.0): launch
// configurations are checked against them and the property queries report them.
#pragma once

#include <cstddef>

namespace hf_emu {

inline constexpr int kWarpSize = 32;
inline constexpr int kMaxThreadsPerBlock = 1024;
inline constexpr unsigned kMaxBlockDim[3] = {1024, 1024, 64};
inline constexpr unsigned kMaxGridDim[3] = {2147483647u, 65535u, 65535u};
inline constexpr std::size_t kSharedPerBlock = 48 * 1024;        // without cudaFuncSetAttribute
inline constexpr std::size_t kSharedPerBlockOptin = 227 * 1024;  // the most one block may have
inline constexpr std::size_t kSharedPerMultiprocessor = 228 * 1024;
inline constexpr std::size_t kReservedSharedPerBlock = 1024;
inline constexpr int kMultiprocessors = 132;
inline constexpr int kRegistersPerBlock = 65536;
inline constexpr int kRegistersPerMultiprocessor = 65536;
inline constexpr int kMaxThreadsPerMultiprocessor = 2048;
inline constexpr int kMaxBlocksPerMultiprocessor = 32;
inline constexpr int kL2CacheBytes = 50 * 1024 * 1024;
inline constexpr int kMemoryBusWidth = 5120;
inline constexpr std::size_t kConstantMemory = 64 * 1024;
inline constexpr int kComputeMajor = 9, kComputeMinor = 0;
inline constexpr int kClockKhz = 1980000;  // the SM clock at which it reaches its 67 TFLOP/s FP32

}  // namespace hf_emu
