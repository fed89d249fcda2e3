// Where a search trains: the CPU with one worker per core, or CUDA devices with one or more
// worker threads per device (gpu_workers.hpp), each thread taking packs from the shared queue;
// and how many networks a pack may hold there.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "host/config/search_config.hpp"
#include "host/run/pack_runner.hpp"
#include "host/search/search_plan.hpp"
#include "kernels/backend_registry.hpp"

namespace hf {

// Networks per pack on a GPU at most: beyond this the GEMMs are wide enough to fill an H100
// and larger packs only delay the first results.
inline constexpr int kMaxGpuPackSize = 4096;

struct DeviceChoice {
  Device device = Device::Cpu;  // Cpu or Cuda, never Auto
  std::vector<int> gpus;        // CUDA device ids, workers_per_gpu worker threads each
  int workers_per_gpu = 1;      // set once the plan is known (with_workers_per_gpu)
  int threads = 1;
  // Said once on stderr when device = "auto" passed over a GPU this build cannot use; else empty.
  std::string notice;
  const char* backend_name() const { return device == Device::Cuda ? "cuda" : "cpu"; }
};

// Resolves [execution] device and gpus against this build and the visible devices, before any
// data is loaded; throws InputError naming the config file when the config asks for what is not
// there. Each chosen GPU must be one this build can train on (code for its architecture, room
// for the fused kernels' smallest plan): device = "cuda" refuses one that is not, naming the card,
// its compute capability, the architectures this build holds and the rebuild command; "auto"
// leaves it out, and trains on the CPU when no GPU is left, saying why (DeviceChoice::notice).
DeviceChoice choose_device(const SearchConfig& config, int cpu_threads);

// "GPU 0 (NVIDIA L4, compute capability 8.9)".
std::string gpu_text(int id, const DeviceMemory& gpu);

// An MPI worker rank's GPU when the config lists none: ranks on one node take the node's
// devices in turn by their local rank (local rank mod visible devices). Empty without a device.
std::vector<int> gpus_for_local_rank(int local_rank);

// The registered backend the choice trains on.
const BackendEntry& backend_entry(const DeviceChoice& choice);

// A factory giving each worker thread a backend on its own device.
BackendFactory backend_factory(const DeviceChoice& choice);

// Free memory of each chosen GPU (choice.gpus' order), asked once per search so the packs and
// the memory plan see the same figures; empty on the CPU.
std::vector<DeviceMemory> gpu_memory(const DeviceChoice& choice);

// The least free memory of the chosen GPUs (0 for none).
std::size_t smallest_free_bytes(const std::vector<DeviceMemory>& memory);

// What a GPU pack may take: half the free memory of the smallest chosen device.
std::size_t gpu_pack_budget(const std::vector<DeviceMemory>& memory);

// A pack of `networks` networks of this layout with the settings that allocate the most.
PackSpec pack_of(const ParameterLayout& layout, int batch_size, int networks);

// The bytes a workspace of this pack takes where it may train: on the CPU the backend's figure;
// on GPUs the most of any chosen device (a pack goes to whichever worker is free, and a device
// with less shared memory puts more of the plan in global scratch).
WorkspaceBytes workspace_on_chosen(const BackendEntry& entry, const std::vector<DeviceMemory>& memory,
                                   const PackSpec& pack, int max_rows);

// Networks per pack: 1 on the CPU (a network's weights stay in the worker's cache); on GPUs as
// many as half of each chosen device's free memory holds by the backend's workspace_bytes for
// that device (the fewest of any device), rounded down to a power of two (so small changes in
// free memory do not change the plan) and at most kMaxGpuPackSize. The number of GPUs never
// enters, so results are the same for any count.
PackSizeRule pack_size_rule(const DeviceChoice& choice, const std::vector<DeviceMemory>& memory, int train_rows,
                            int test_rows);

// The pack size rule's arithmetic, for tests: the largest power of two n up to kMaxGpuPackSize
// whose pack takes `pack_bytes(n)` within `budget_bytes`; 1 when not even two fit.
int gpu_pack_size(std::size_t budget_bytes, const std::function<std::size_t(int networks)>& pack_bytes);

}  // namespace hf
