// Where a search trains: the CPU with one worker per core, or CUDA devices with one worker
// thread per device, each thread taking packs from the shared queue; and how many networks a
// pack may hold there.
#pragma once

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
  std::vector<int> gpus;        // CUDA device ids, one worker thread each
  int threads = 1;
  const char* backend_name() const { return device == Device::Cuda ? "cuda" : "cpu"; }
};

// Resolves [execution] device and gpus against this build and the visible devices; throws
// InputError naming the config file when the config asks for what is not there.
DeviceChoice choose_device(const SearchConfig& config, int cpu_threads);

// An MPI worker rank's GPU when the config lists none: ranks on one node take the node's
// devices in turn by their local rank (local rank mod visible devices). Empty without a device.
std::vector<int> gpus_for_local_rank(int local_rank);

// The registered backend the choice trains on.
const BackendEntry& backend_entry(const DeviceChoice& choice);

// A factory giving each worker thread a backend on its own device.
BackendFactory backend_factory(const DeviceChoice& choice);

// Networks per pack: 1 on the CPU (a network's weights stay in the worker's cache); on GPUs as
// many as half the free memory of the smallest chosen device holds, rounded down to a power of
// two (so small changes in free memory do not change the plan) and at most kMaxGpuPackSize.
// The number of GPUs never enters, so results are the same for any count.
PackSizeRule pack_size_rule(const DeviceChoice& choice, int train_rows, int test_rows);

// The pack size rule's arithmetic, for tests: networks of `bytes_per_network` in `budget`.
int gpu_pack_size(std::size_t budget_bytes, std::size_t bytes_per_network);

}  // namespace hf
