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

}  // namespace

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
  choice.threads = static_cast<int>(choice.gpus.size());
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
  // One worker thread per device: worker i trains on the i-th device.
  return [&entry, gpus = choice.gpus](int worker) {
    return entry.make(gpus[static_cast<std::size_t>(worker) % gpus.size()]);
  };
}

int gpu_pack_size(std::size_t budget_bytes, std::size_t bytes_per_network) {
  const std::size_t fit = bytes_per_network == 0 ? 1 : budget_bytes / bytes_per_network;
  int size = 1;
  while (size * 2 <= kMaxGpuPackSize && static_cast<std::size_t>(size) * 2 <= fit) size *= 2;
  return size;
}

PackSizeRule pack_size_rule(const DeviceChoice& choice, int train_rows, int test_rows) {
  const BackendEntry& entry = backend_entry(choice);
  if (!entry.accelerator) return [](const ParameterLayout&, int) { return 1; };
  std::size_t smallest_free = 0;
  for (std::size_t i = 0; i < choice.gpus.size(); ++i) {
    const std::size_t free_bytes = entry.device_memory(choice.gpus[i]).free_bytes;
    smallest_free = i == 0 ? free_bytes : std::min(smallest_free, free_bytes);
  }
  // Half: cuBLAS workspaces, the CUDA context and other processes need the rest; a pack that
  // still does not fit is split in halves when it runs.
  const std::size_t budget = smallest_free / 2;
  return [&entry, budget, train_rows, test_rows](const ParameterLayout& layout, int batch_size) {
    return gpu_pack_size(budget, entry.bytes_per_network(layout, workspace_rows(batch_size, train_rows, test_rows)));
  };
}

}  // namespace hf
