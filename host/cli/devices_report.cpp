#include "host/cli/devices_report.hpp"

#include "host/config/search_config.hpp"
#include "host/run/device_choice.hpp"
#include "host/run/device_plan.hpp"
#include "host/run/prepared_search.hpp"
#include "kernels/backend/byte_size.hpp"
#include "kernels/backend_registry.hpp"

namespace hf {

std::string devices_report(const std::optional<std::filesystem::path>& config_path) {
  const BackendEntry* cuda = find_backend("cuda");
  if (cuda == nullptr) {
    return "no GPU: this build of hyperfuse has no CUDA backend (rebuild with -DHYPERFUSE_CUDA=ON where the CUDA "
           "toolkit is installed); it trains on the CPU\n";
  }
  const std::string emulated = cuda->emulated ? " (emulated on the host: tests only, no speed)" : "";
  std::string text = "CUDA backend for " + cuda->architectures + emulated + "\n";
  const int count = cuda->device_count();
  if (count == 0)
    return text + "no GPU: no CUDA device is visible (no GPU, no driver, or CUDA_VISIBLE_DEVICES hides them)\n";
  std::vector<int> usable;
  for (int id = 0; id < count; ++id) {
    const DeviceMemory gpu = cuda->device_memory(id);
    text +=
        gpu_text(id, gpu) + ": " + byte_size(gpu.total_bytes) + " memory (" + byte_size(gpu.free_bytes) + " free), " +
        byte_size(gpu.limits.shared_bytes_per_block) + " shared memory per block, " +
        std::to_string(gpu.limits.multiprocessors) + " multiprocessors, " + byte_size(gpu.limits.l2_bytes) + " L2; " +
        (gpu.unusable.empty() ? "this build can train on it" : "this build cannot train on it: " + gpu.unusable) + "\n";
    if (gpu.unusable.empty()) usable.push_back(id);
  }
  if (!config_path) return text;
  if (usable.empty())
    return text + config_path->string() + ": no GPU this build can use; the search trains on the CPU\n";
  SearchConfig config = load_search_config(*config_path);
  config.device = Device::Cuda;
  config.gpus = usable;
  const PreparedSearch prepared = prepare_search(config);
  text += config_path->string() + " on the usable GPUs:\n";
  for (const std::string& line : gpu_plan_lines(prepared)) text += line + "\n";
  return text;
}

}  // namespace hf
