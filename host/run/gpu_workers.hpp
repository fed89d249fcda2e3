// How many worker threads, each with its own backend and stream, share one GPU: more than one
// when a pack has fewer networks than the GPU trains at once, so several packs run side by side
// and the device is not left partly idle; as many as the GPU's memory holds.
#pragma once

#include <cstddef>
#include <vector>

#include "host/data/standard_scaler.hpp"
#include "host/run/device_choice.hpp"
#include "host/search/search_plan.hpp"
#include "kernels/backend_registry.hpp"

namespace hf {

// More streams than this gain little: four packs of 33 networks already fill 132 SMs.
inline constexpr int kMaxWorkersPerGpu = 4;

// The arithmetic, for tests: ceil(networks_at_once / largest_pack) workers, at least 1 and at
// most kMaxWorkersPerGpu, then fewer until that many workers' device bytes (each holding the
// largest pack and its own copy of the data) fit in budget_bytes. 1 when the device does not say
// how many networks it trains at once.
int workers_per_gpu(int networks_at_once, int largest_pack, std::size_t bytes_per_worker, std::size_t budget_bytes);

// Device bytes a CUDA worker holds beside its pack's workspace: its own copy of the data sets
// and the data-sized scratch (the epochs' orders, the predicted-positive bits) it keeps across
// packs (kernels/cuda/resident_rows.hpp). An upper bound.
std::size_t resident_bytes_per_worker(const SearchPlan& plan, const std::vector<const Dataset*>& data_sets,
                                      int train_rows);

// Workers per GPU for this plan: on the CPU 1 (the CPU has its own thread count). Every chosen
// GPU gets the same number, the fewest any device takes by its own figures (multiprocessors, the
// workspace planned for its shared memory, half its free memory: the share the packs were sized
// by). Results do not depend on it: packs
// are independent and each is trained the same way by any worker.
int workers_per_gpu(const DeviceChoice& choice, const std::vector<DeviceMemory>& memory, const SearchPlan& plan,
                    int train_rows, int test_rows, std::size_t resident_bytes);

// The choice with `workers` worker threads per GPU: threads = gpus x workers. Worker w trains on
// gpus[w % gpus.size()] (backend_factory), so every listed GPU is busy.
DeviceChoice with_workers_per_gpu(DeviceChoice choice, int workers);

}  // namespace hf
