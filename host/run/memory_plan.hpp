// What a planned search needs in memory where it trains, worked out before any training from
// the backend's workspace_bytes (the function its workspaces allocate by, which also sizes GPU
// packs), and what fits in what the machine offers: a combination that cannot fit even alone is
// refused (InputError, exit status 2) with its figures and the fix; a search that fits with
// fewer worker threads runs with fewer, which does not change its results.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "host/config/search_config.hpp"
#include "host/run/machine_memory.hpp"
#include "host/run/prepared_search.hpp"
#include "kernels/backend/workspace_bytes.hpp"

namespace hf {

// What the program takes once it runs, beyond its peak resident memory before it loaded the data
// (PreparedSearch::program_bytes, which holds its code and libraries): SQLite's page cache,
// the progress thread. Measured (memory_plan.cpp). The backend's kernels are counted apart.
inline constexpr std::size_t kProgramGrowthBytes = std::size_t{2} << 20;
// A worker thread itself, apart from its pack: the stack it touches and its malloc arena.
// Measured likewise.
inline constexpr std::size_t kPerThreadOverheadBytes = std::size_t{512} << 10;

// One planned pack where it trains.
struct PackMemory {
  WorkspaceBytes workspace;            // on the backend's memory: host for the CPU, device for a GPU
  std::size_t trainer_host = 0;        // train_pack's host buffers (initial weights and their scratch, ...)
  std::size_t thread_host = 0;         // host bytes the worker thread training it holds, itself included
  std::size_t device = 0;              // GPU bytes (the workspace); 0 on the CPU
  std::size_t one_network_device = 0;  // GPU bytes of one network of the pack: the least that must fit
};

struct MemoryEstimate {
  bool on_gpu = false;
  std::size_t fixed = 0;          // the program: its code and libraries, and what it adds as it runs
  std::size_t library = 0;        // the backend's shared kernels (the CPU's compiled GEMMs), in `fixed`
  std::size_t data = 0;           // the scaled training and test sets, held for the whole run
  std::size_t loading = 0;        // more while loading them: the files' text and the parsed tables
  std::size_t bookkeeping = 0;    // the plan and every training's result
  std::vector<PackMemory> packs;  // per planned pack, in the plan's order
  std::vector<std::size_t> thread_host_largest_first;  // the packs' thread_host, sorted
  int workers_per_gpu = 1;          // worker threads sharing one GPU, each holding a pack (gpu_workers.hpp)
  std::size_t resident_device = 0;  // GPU bytes each GPU worker keeps beside its pack: its copy of the data

  // Host bytes at the peak with `threads` worker threads, each holding one of the largest packs
  // at its largest moment (an upper bound: threads rarely peak together).
  std::size_t host_peak(int threads) const;
  // Host bytes at the peak with one worker thread that trains only pack `pack`.
  std::size_t host_peak_with(std::size_t pack) const;
  // GPU bytes at the peak on one GPU: each of its workers holding the largest pack and its copy
  // of the data (0 on the CPU).
  std::size_t device_peak() const;

 private:
  std::size_t with_threads_holding(std::size_t thread_bytes) const;
};

MemoryEstimate estimate_memory(const PreparedSearch& prepared);

struct MemoryFit {
  int threads = 1;     // worker threads that fit, at most the ones asked for
  std::string notice;  // said once on stderr when memory changed how the search runs; else empty
};

// Throws InputError naming a combination (its hyperparameter values), what it needs, what is
// available and what to change, when a combination cannot fit even on one worker thread (host
// memory) or one network per pack (GPU memory). Otherwise the most worker threads that fit.
MemoryFit fit_to_memory(const SearchConfig& config, const PreparedSearch& prepared, const MemoryEstimate& estimate,
                        const HostMemory& host);

// "hidden_layers = [1000, 1000], batch_size = 32, ...": every hyperparameter of the combination
// that planned pack `pack` trains first, as the config wrote it.
std::string combination_of_pack(const SearchConfig& config, const SearchPlan& plan, std::size_t pack);

}  // namespace hf
