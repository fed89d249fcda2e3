#include "host/run/device_plan.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "host/run/device_choice.hpp"
#include "kernels/backend/byte_size.hpp"

namespace hf {

std::vector<std::string> gpu_plan_lines(const PreparedSearch& prepared) {
  std::vector<std::string> lines;
  const BackendEntry& entry = backend_entry(prepared.device);
  if (!entry.accelerator || !entry.placement) return lines;
  for (std::size_t g = 0; g < prepared.gpu_memory.size() && g < prepared.device.gpus.size(); ++g) {
    const DeviceMemory& gpu = prepared.gpu_memory[g];
    lines.push_back(gpu_text(prepared.device.gpus[g], gpu) + ", " + byte_size(gpu.limits.shared_bytes_per_block) +
                    " shared memory per block, " + std::to_string(prepared.device.workers_per_gpu) +
                    (prepared.device.workers_per_gpu == 1 ? " worker:" : " workers:"));
    std::set<std::tuple<std::vector<int>, int>> seen;
    for (const PlannedPack& pack : prepared.plan.packs) {
      if (!seen.insert({pack.spec.layout.widths, pack.spec.batch_size}).second) continue;
      int networks = 0;  // the largest pack of this layout and batch size
      for (const PlannedPack& other : prepared.plan.packs)
        if (other.spec.layout.widths == pack.spec.layout.widths && other.spec.batch_size == pack.spec.batch_size)
          networks = std::max(networks, other.spec.models());
      const NetworkPlacement placement = entry.placement(pack.spec, prepared.train.rows, gpu.limits);
      std::string widths;
      for (int w : pack.spec.layout.widths) widths += (widths.empty() ? "" : "-") + std::to_string(w);
      const std::string scratch =
          placement.scratch_bytes == 0
              ? "nothing in global scratch"
              : byte_size(placement.scratch_bytes) + " a network in global scratch (" + placement.in_scratch + ")";
      lines.push_back("  widths " + widths + ", batch " + std::to_string(pack.spec.batch_size) + ": " +
                      std::to_string(networks) + (networks == 1 ? " network" : " networks") + " a pack, " +
                      byte_size(placement.shared_bytes) + " on chip, " + scratch + ", " +
                      std::to_string(placement.launches_per_epoch) +
                      (placement.launches_per_epoch == 1 ? " launch" : " launches") + " an epoch");
    }
  }
  return lines;
}

}  // namespace hf
