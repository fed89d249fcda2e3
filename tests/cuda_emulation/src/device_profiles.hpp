// The cards the emulation can pretend to be (HYPERFUSE_EMU_PROFILE), each with its published
// limits, the limits every CUDA device of compute capability 7.5 and newer shares, and the
// architectures the emulated build "holds code for" (HYPERFUSE_EMU_BUILT_ARCHITECTURES), which
// decide whether a card gets a kernel image.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace hf_emu {

// Shared by every profile.
inline constexpr int kWarpSize = 32;
inline constexpr int kMaxThreadsPerBlock = 1024;
inline constexpr unsigned kMaxBlockDim[3] = {1024, 1024, 64};
inline constexpr unsigned kMaxGridDim[3] = {2147483647u, 65535u, 65535u};
inline constexpr std::size_t kSharedPerBlock = 48 * 1024;  // without cudaFuncSetAttribute
inline constexpr std::size_t kReservedSharedPerBlock = 1024;
inline constexpr int kRegistersPerBlock = 65536;
inline constexpr std::size_t kConstantMemory = 64 * 1024;

struct DeviceProfile {
  const char* key;                     // as HYPERFUSE_EMU_PROFILE names it: "h100"
  const char* name;                    // as cudaGetDeviceProperties reports it
  int major, minor;                    // compute capability
  std::size_t shared_per_block_optin;  // the most dynamic shared memory one block may have
  std::size_t shared_per_multiprocessor;
  int multiprocessors;
  int registers_per_multiprocessor;
  int max_threads_per_multiprocessor;
  int max_blocks_per_multiprocessor;
  int l2_bytes;
  int memory_bus_width;
  std::size_t memory_bytes;  // nominal, as the card is sold
  int clock_khz;             // the SM boost clock, at which it reaches its published FP32 peak

  int compute_capability() const { return major * 10 + minor; }
};

// The default profile: an H100 SXM.
const DeviceProfile& default_profile();
// The profile `key` names, or null.
const DeviceProfile* find_profile(const std::string& key);
// "t4, a10g, l4, ...": every key, for messages.
std::string profile_keys();

// One entry of a CMake-style architecture list: "90" (machine code and PTX), "90-real" (machine
// code) or "90-virtual" (PTX).
struct BuiltArchitecture {
  int compute_capability = 0;  // 90 for sm_90
  bool real = false;           // machine code (sm_XY), else PTX (compute_XY)
};

// The release build's default list: machine code for every card CUDA 13 runs, and PTX of the
// newest, as CMakeLists.txt builds it.
inline constexpr const char* kDefaultBuiltArchitectures =
    "75-real;80-real;86-real;89-real;90-real;100-real;120-real;120-virtual";

// Parses a list separated by ';' or ','; returns false (and leaves `out` as it was) when an entry
// is not one of the forms above.
bool parse_architectures(const std::string& text, std::vector<BuiltArchitecture>& out);

// Whether a device of this compute capability can run code of this list: machine code of the
// same major version and an equal or lower minor one, or PTX of an equal or lower capability
// (which the driver compiles at load).
bool has_kernel_image(const std::vector<BuiltArchitecture>& built, int major, int minor);

// "75-real;80-real;...;120-virtual", the list as CMake writes it.
std::string architectures_text(const std::vector<BuiltArchitecture>& built);

}  // namespace hf_emu
