#include "host/run/device_choice.hpp"

#include <algorithm>
#include <memory>

#include "host/common/errors.hpp"
#include "host/training/pack_trainer.hpp"
#include "kernels/backend/device_errors.hpp"

namespace hf {
namespace {

const char* kCudaBackend = "cuda";

// Visible devices of the CUDA backend, 0 when this build has none. A driver that cannot be used
// (too old for this build, ...) throws DeviceError with its fix: never a quiet fall-back to the
// CPU.
int visible_cuda_devices() {
  const BackendEntry* cuda = find_backend(kCudaBackend);
  return cuda == nullptr ? 0 : cuda->device_count();
}

std::string no_cuda_message(const SearchConfig& config) {
  const std::string where = config.source.string() + ": [execution] device = \"cuda\", but ";
  const std::string fix = "; use device = \"cpu\" or \"auto\" (or --device cpu)";
  if (find_backend(kCudaBackend) == nullptr) {
    return where +
           "this build of hyperfuse has no CUDA backend (rebuild with -DHYPERFUSE_CUDA=ON where the CUDA toolkit is "
           "installed)" +
           fix;
  }
  return where + "no CUDA device is visible (no GPU, no driver, or CUDA_VISIBLE_DEVICES hides them)" + fix;
}

// The chosen GPUs this build can train on; refuses (device = "cuda") or leaves out (auto) the
// others.
void keep_usable_gpus(const SearchConfig& config, const BackendEntry& cuda, DeviceChoice& choice) {
  std::vector<int> usable;
  std::string passed_over;
  for (int id : choice.gpus) {
    const DeviceMemory gpu = cuda.device_memory(id);
    if (gpu.unusable.empty()) {
      usable.push_back(id);
      continue;
    }
    if (config.device == Device::Cuda) {
      throw InputError(config.source.string() + ": [execution] device = \"cuda\", but " + gpu_text(id, gpu) +
                       " cannot be used: " + gpu.unusable + "; or train on the CPU (--device cpu)");
    }
    if (passed_over.empty()) passed_over = gpu_text(id, gpu) + ": " + gpu.unusable;
  }
  if (passed_over.empty()) return;
  if (usable.empty()) {
    choice = DeviceChoice{};
    choice.notice = "hyperfuse: device = \"auto\": training on the CPU, because " + passed_over;
    return;
  }
  choice.notice = "hyperfuse: device = \"auto\": leaving out " + passed_over;
  choice.gpus = usable;
}

}  // namespace

std::string gpu_text(int id, const DeviceMemory& gpu) {
  return "GPU " + std::to_string(id) + " (" + gpu.name + ", compute capability " +
         std::to_string(gpu.limits.compute_major) + "." + std::to_string(gpu.limits.compute_minor) + ")";
}

DeviceChoice choose_device(const SearchConfig& config, int cpu_threads) {
  DeviceChoice choice;
  choice.threads = cpu_threads;
  if (config.device == Device::Cpu) return choice;
  const BackendEntry* cuda = find_backend(kCudaBackend);
  const int visible = visible_cuda_devices();  // throws DeviceError when CUDA is there but broken
  // An emulated GPU (tests/cuda_emulation) is for tests: only device = "cuda" trains on it.
  if (config.device == Device::Auto && cuda != nullptr && !cuda->chosen_by_auto) return choice;
  if (visible == 0) {
    if (config.device == Device::Cuda) throw InputError(no_cuda_message(config));
    return choice;  // auto without a GPU: the CPU
  }
  choice.device = Device::Cuda;
  if (config.gpus.empty()) {
    for (int d = 0; d < visible; ++d) choice.gpus.push_back(d);
  } else {
    for (int id : config.gpus) {
      if (id >= visible) {
        throw InputError(config.source.string() + ": [execution] gpus lists device " + std::to_string(id) +
                         ", but only " + std::to_string(visible) + " CUDA device" + (visible == 1 ? " is" : "s are") +
                         " visible (ids 0 to " + std::to_string(visible - 1) +
                         "); list visible ids or write gpus = \"all\"");
      }
    }
    choice.gpus = config.gpus;
  }
  const int cpu = choice.threads;
  keep_usable_gpus(config, *cuda, choice);
  choice.threads = choice.device == Device::Cuda ? static_cast<int>(choice.gpus.size()) : cpu;
  return choice;
}

std::vector<int> gpus_for_local_rank(int local_rank) {
  const int visible = visible_cuda_devices();
  if (visible == 0) return {};
  return {local_rank % visible};
}

const BackendEntry& backend_entry(const DeviceChoice& choice) {
  const BackendEntry* entry = find_backend(choice.backend_name());
  if (entry == nullptr)
    throw InputError(std::string("this build of hyperfuse has no ") + choice.backend_name() + " backend");
  return *entry;
}

BackendFactory backend_factory(const DeviceChoice& choice) {
  const BackendEntry& entry = backend_entry(choice);
  if (!entry.accelerator) return [&entry](int /*worker*/) { return entry.make(0); };
  // Round robin: worker i trains on device i mod gpus, so with workers_per_gpu x gpus threads
  // every device gets the same number of workers.
  return [&entry, gpus = choice.gpus](int worker) {
    return entry.make(gpus[static_cast<std::size_t>(worker) % gpus.size()]);
  };
}

int gpu_pack_size(std::size_t budget_bytes, const std::function<std::size_t(int networks)>& pack_bytes) {
  int size = 1;
  while (size * 2 <= kMaxGpuPackSize && pack_bytes(size * 2) <= budget_bytes) size *= 2;
  return size;
}

std::vector<DeviceMemory> gpu_memory(const DeviceChoice& choice) {
  const BackendEntry& entry = backend_entry(choice);
  std::vector<DeviceMemory> memory;
  if (!entry.accelerator) return memory;
  for (int gpu : choice.gpus) memory.push_back(entry.device_memory(gpu));
  return memory;
}

std::size_t smallest_free_bytes(const std::vector<DeviceMemory>& memory) {
  std::size_t smallest = 0;
  for (std::size_t i = 0; i < memory.size(); ++i)
    smallest = i == 0 ? memory[i].free_bytes : std::min(smallest, memory[i].free_bytes);
  return smallest;
}

std::size_t gpu_pack_budget(const std::vector<DeviceMemory>& memory) {
  // Half: cuBLAS workspaces, the CUDA context and other processes need the rest; a pack that
  // still does not fit is split in halves when it runs.
  return smallest_free_bytes(memory) / 2;
}

PackSpec pack_of(const ParameterLayout& layout, int batch_size, int networks) {
  // The settings that allocate the most on any backend (dropout buffers), so a pack sized by
  // them fits whatever its networks train with.
  PackMember member;
  member.dropout = 0.5;
  return PackSpec{layout, batch_size, std::vector<PackMember>(static_cast<std::size_t>(networks), member)};
}

WorkspaceBytes workspace_on_chosen(const BackendEntry& entry, const std::vector<DeviceMemory>& memory,
                                   const PackSpec& pack, int max_rows) {
  if (!entry.accelerator || memory.empty()) return entry.workspace_bytes(pack, max_rows, DeviceLimits{});
  WorkspaceBytes most;
  for (const DeviceMemory& gpu : memory) {
    const WorkspaceBytes bytes = entry.workspace_bytes(pack, max_rows, gpu.limits);
    if (bytes.total() > most.total()) most = bytes;
  }
  return most;
}

PackSizeRule pack_size_rule(const DeviceChoice& choice, const std::vector<DeviceMemory>& memory, int train_rows,
                            int test_rows) {
  const BackendEntry& entry = backend_entry(choice);
  if (!entry.accelerator || memory.empty()) return [](const ParameterLayout&, int) { return 1; };
  return [&entry, memory, train_rows, test_rows](const ParameterLayout& layout, int batch_size) {
    const int rows = workspace_rows(batch_size, train_rows, test_rows);
    int size = kMaxGpuPackSize;
    for (const DeviceMemory& gpu : memory) {
      // Half of this device's free memory (gpu_pack_budget's share) for a pack planned for it.
      size = std::min(size, gpu_pack_size(gpu.free_bytes / 2, [&](int networks) {
                        return entry.workspace_bytes(pack_of(layout, batch_size, networks), rows, gpu.limits).total();
                      }));
    }
    return size;
  };
}

}  // namespace hf
