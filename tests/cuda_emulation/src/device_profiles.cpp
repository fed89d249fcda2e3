// The published limits of the cards HYPERFUSE_EMU_PROFILE names (NVIDIA's data sheets and the
// CUDA Programming Guide's table of compute capabilities), and the architecture-list rules.
#include "tests/cuda_emulation/src/device_profiles.hpp"

#include <iterator>

namespace hf_emu {
namespace {

constexpr std::size_t KiB = 1024;
constexpr std::size_t GiB = std::size_t{1} << 30;
constexpr int MiB = 1 << 20;

// key, name, CC, opt-in shared per block, shared per SM, SMs, registers per SM, threads per SM,
// blocks per SM, L2, memory bus bits, memory, boost clock.
constexpr DeviceProfile kProfiles[] = {
    {"t4", "Tesla T4", 7, 5, 64 * KiB, 64 * KiB, 40, 65536, 1024, 16, 4 * MiB, 256, 16 * GiB, 1590000},
    {"a10g", "NVIDIA A10G", 8, 6, 99 * KiB, 100 * KiB, 80, 65536, 1536, 16, 6 * MiB, 384, 24 * GiB, 1710000},
    {"l4", "NVIDIA L4", 8, 9, 99 * KiB, 100 * KiB, 58, 65536, 1536, 24, 48 * MiB, 192, 24 * GiB, 2040000},
    {"rtx4090", "NVIDIA GeForce RTX 4090", 8, 9, 99 * KiB, 100 * KiB, 128, 65536, 1536, 24, 72 * MiB, 384, 24 * GiB, 2520000},
    {"a100", "NVIDIA A100-SXM4-80GB", 8, 0, 163 * KiB, 164 * KiB, 108, 65536, 2048, 32, 40 * MiB, 5120, 80 * GiB, 1410000},
    {"h100", "NVIDIA H100 80GB HBM3", 9, 0, 227 * KiB, 228 * KiB, 132, 65536, 2048, 32, 50 * MiB, 5120, 80 * GiB, 1980000},
    {"h200", "NVIDIA H200", 9, 0, 227 * KiB, 228 * KiB, 132, 65536, 2048, 32, 50 * MiB, 6144, 141 * GiB, 1980000},
    {"b200", "NVIDIA B200", 10, 0, 227 * KiB, 228 * KiB, 148, 65536, 2048, 32, 126 * MiB, 8192, 180 * GiB, 1965000},
    {"rtx5090", "NVIDIA GeForce RTX 5090", 12, 0, 99 * KiB, 100 * KiB, 170, 65536, 1536, 32, 96 * MiB, 512, 32 * GiB, 2407000},
};

}  // namespace

const DeviceProfile& default_profile() { return *find_profile("h100"); }

const DeviceProfile* find_profile(const std::string& key) {
  for (const DeviceProfile& p : kProfiles)
    if (key == p.key) return &p;
  return nullptr;
}

std::string profile_keys() {
  std::string keys;
  for (const DeviceProfile& p : kProfiles) keys += (keys.empty() ? "" : ", ") + std::string(p.key);
  return keys;
}

bool parse_architectures(const std::string& text, std::vector<BuiltArchitecture>& out) {
  std::vector<BuiltArchitecture> list;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find_first_of(";,", start);
    std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() + 1 : end + 1;
    bool real = true, virtual_too = true;
    const std::size_t dash = item.find('-');
    if (dash != std::string::npos) {
      const std::string kind = item.substr(dash + 1);
      if (kind == "real") {
        virtual_too = false;
      } else if (kind == "virtual") {
        real = false;
      } else {
        return false;
      }
      item.resize(dash);
    }
    if (item.empty() || item.size() > 3 || item.find_first_not_of("0123456789") != std::string::npos) return false;
    const int capability = std::stoi(item);
    if (real) list.push_back({capability, true});
    if (virtual_too) list.push_back({capability, false});
  }
  if (list.empty()) return false;
  out = std::move(list);
  return true;
}

bool has_kernel_image(const std::vector<BuiltArchitecture>& built, int major, int minor) {
  const int device = major * 10 + minor;
  for (const BuiltArchitecture& a : built) {
    if (a.real && a.compute_capability / 10 == major && a.compute_capability <= device) return true;
    if (!a.real && a.compute_capability <= device) return true;
  }
  return false;
}

std::string architectures_text(const std::vector<BuiltArchitecture>& built) {
  std::string text;
  for (const BuiltArchitecture& a : built)
    text += (text.empty() ? "" : ";") + std::to_string(a.compute_capability) + (a.real ? "-real" : "-virtual");
  return text;
}

}  // namespace hf_emu
