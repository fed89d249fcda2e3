#include "host/run/gpu_workers.hpp"

#include <algorithm>

#include "host/training/pack_trainer.hpp"

namespace hf {

int workers_per_gpu(int networks_at_once, int largest_pack, std::size_t bytes_per_worker, std::size_t budget_bytes) {
  if (networks_at_once <= 0 || largest_pack <= 0) return 1;
  int workers = std::clamp((networks_at_once + largest_pack - 1) / largest_pack, 1, kMaxWorkersPerGpu);
  while (workers > 1 && static_cast<std::size_t>(workers) * bytes_per_worker > budget_bytes) --workers;
  return workers;
}

std::size_t resident_bytes_per_worker(const SearchPlan& plan, const std::vector<const Dataset*>& data_sets,
                                      int train_rows) {
  std::size_t bytes = 0, evaluated_rows = 0;
  for (const Dataset* d : data_sets) {
    bytes += (d->x.size() + d->y.size()) * sizeof(float);
    evaluated_rows = std::max(evaluated_rows, static_cast<std::size_t>(d->rows));
  }
  int epochs = 0, networks = 0;
  for (const PlannedPack& pack : plan.packs) {
    networks = std::max(networks, pack.spec.models());
    for (const PackMember& m : pack.spec.members) epochs = std::max(epochs, m.max_epochs);
  }
  const std::size_t orders = static_cast<std::size_t>(epochs) * static_cast<std::size_t>(train_rows) * sizeof(int);
  const std::size_t positives = (evaluated_rows + 31) / 32 * static_cast<std::size_t>(networks) * sizeof(unsigned);
  return bytes + orders + positives;
}

int workers_per_gpu(const DeviceChoice& choice, const std::vector<DeviceMemory>& memory, const SearchPlan& plan,
                    int train_rows, int test_rows, std::size_t resident_bytes) {
  const BackendEntry& entry = backend_entry(choice);
  if (!entry.accelerator || memory.empty() || plan.packs.empty()) return 1;
  int largest_pack = 0;
  for (const PlannedPack& pack : plan.packs) largest_pack = std::max(largest_pack, pack.spec.models());
  // Each device by its own figures (multiprocessors, the plan's scratch for its shared memory,
  // half its free memory); the fewest workers any device takes.
  int workers = kMaxWorkersPerGpu;
  for (const DeviceMemory& gpu : memory) {
    std::size_t largest_workspace = 0;
    for (const PlannedPack& pack : plan.packs) {
      const int rows = workspace_rows(pack.spec.batch_size, train_rows, test_rows);
      largest_workspace = std::max(largest_workspace, entry.workspace_bytes(pack.spec, rows, gpu.limits).total());
    }
    workers = std::min(workers, workers_per_gpu(gpu.networks_at_once, largest_pack, largest_workspace + resident_bytes,
                                                gpu.free_bytes / 2));
  }
  return workers;
}

DeviceChoice with_workers_per_gpu(DeviceChoice choice, int workers) {
  if (choice.device != Device::Cuda) return choice;
  choice.workers_per_gpu = std::max(1, workers);
  choice.threads = static_cast<int>(choice.gpus.size()) * choice.workers_per_gpu;
  return choice;
}

}  // namespace hf
