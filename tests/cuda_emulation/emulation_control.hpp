// In-process control of the CUDA emulation for tests, in plain C++ (no CUDA types): its counters,
// the faults it injects, the emulated devices, and the last program error it caught. The same
// settings come from environment variables in a process started from outside (README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hf_emu {

// What the emulated devices were asked to do since the start (or reset_counters(), which clears
// kernel_counters() too). Copies
// count cudaMemcpy*/cudaMemcpy2D* calls (memsets and device-to-device copies are not counted);
// training_steps is what the CUDA backend reported: steps summed over networks;
// fused_epoch_launches its launches of the fused training kernel (an epoch or a part of one).
struct Counters {
  std::uint64_t launches = 0;
  std::uint64_t blas_calls = 0;
  std::uint64_t copies_h2d = 0;
  std::uint64_t copies_d2h = 0;
  std::uint64_t bytes_h2d = 0;
  std::uint64_t bytes_d2h = 0;
  std::uint64_t training_steps = 0;
  std::uint64_t fused_epoch_launches = 0;
};
Counters counters();
void reset_counters();
// {"launches": ..., "blas_calls": ..., ..., "training_steps": ..., "fused_epoch_launches": ...}
std::string counters_json(const Counters& counters);

// What a profiler would count in kernels (kernel_counters.cpp, README.md "Kernel counters"), over
// barrier intervals: a block's stretch between two __syncthreads (or its start or end).
struct AccessCounts {
  std::uint64_t shared_requests = 0;  // warp instructions to shared memory
  std::uint64_t shared_wavefronts = 0;
  std::uint64_t shared_minimum_wavefronts = 0;  // what the requests' widths need without conflicts
  std::uint64_t global_requests = 0;            // warp instructions to device (or pinned) memory
  std::uint64_t global_sectors = 0;             // 32-byte sectors they touch
  std::uint64_t global_minimum_sectors = 0;     // the sectors their distinct bytes need
  std::uint64_t intervals = 0;                  // barrier intervals, summed over blocks
  std::uint64_t intervals_with_activity = 0;    // ... in which some warp accessed memory or a collective
  // [k]: (interval with activity, scheduler) pairs with k warps active; schedulers holding no warp
  // of the block are left out.
  std::vector<std::uint64_t> active_warps_per_scheduler;
  // Intervals with activity in which every scheduler holding warps had at least two active.
  std::uint64_t intervals_with_two_warps_per_scheduler = 0;
  // The same for busy warps: those that made at least half as many accesses in the interval as
  // its busiest warp (a warp that only reads a loop bound and waits at the barrier is active, not
  // busy, and hides no latency).
  std::vector<std::uint64_t> busy_warps_per_scheduler;
  std::uint64_t intervals_with_two_busy_warps_per_scheduler = 0;
  double bank_conflict_factor() const;  // shared wavefronts / minimum (1 without requests)
  double sectors_per_minimum() const;   // global sectors / minimum (1 without requests)
  double mean_active_warps_per_scheduler() const;
  double mean_busy_warps_per_scheduler() const;
};
struct KernelCounters {
  std::string kernel;
  std::uint64_t launches = 0;
  std::uint64_t blocks = 0;
  std::uint64_t barriers = 0;  // __syncthreads (all forms) each block executed, summed over blocks
  AccessCounts total;
  // Per phase: the intervals ended by one __syncthreads ("file.cu:123 #2": the second of a run of
  // intervals that barrier ended one after another, as a loop over layers does), or by the
  // block's end ("end of block"), in order of first appearance.
  std::vector<std::pair<std::string, AccessCounts>> phases;
};
// Per kernel name, in order of first launch, since the start (or reset_counters()).
std::vector<KernelCounters> kernel_counters();
// {"kernel": {"kernel_launches": ..., ..., "phases": {...}}, ...}
std::string kernel_counters_json(const std::vector<KernelCounters>& kernels);
// Counting costs hash lookups per access: on when HYPERFUSE_EMU_KERNEL_COUNTERS=1 and
// HYPERFUSE_EMU_COUNTERS are set, or turned on here for later launches. It needs the race
// check's instrumentation (race_check_built()), not its recording.
void enable_kernel_counters(bool on);
bool kernel_counters_enabled();

// Faults to inject. Counts are 1-based over the whole process (all devices); 0 or -1: none.
struct Faults {
  std::int64_t fail_allocation = 0;  // the Nth cudaMalloc fails with cudaErrorMemoryAllocation
  std::int64_t fail_launch = 0;      // the Nth launch fails with cudaErrorLaunchOutOfResources
  // After this many launches (on lost_device, or on any device when -1) the device is lost: the
  // next launch and every later call on it fail with cudaErrorLaunchFailure (sticky).
  std::int64_t lose_device_after = -1;
  int lost_device = -1;
  // The driver's CUDA version (major * 1000 + minor * 10). Below 13000 every call but the
  // version queries fails with cudaErrorInsufficientDriver, as with a driver too old for CUDA 13.
  int driver_version = 13000;
};
Faults faults();
void set_faults(const Faults& faults);

// Replaces the emulated devices: `count` devices (0: cudaErrorNoDevice), each with memory[i]
// bytes (one value for all, or none for each profile's memory). Throws std::logic_error while
// device memory is allocated or streams other than the default ones exist.
void configure_devices(int count, const std::vector<std::size_t>& memory = {});
// Each emulated device's memory in bytes (as many entries as devices).
std::vector<std::size_t> configured_device_memory();

// The bytes of device memory live on `device` (cudaMalloc'd and not yet freed) once the device's
// queued work has run (it synchronises the device, so stream-ordered frees have returned their
// memory): what the runtime itself allocated, for tests that hold a program's own accounting to
// it. Throws
// std::out_of_range for a device that does not exist.
std::size_t device_bytes_allocated(int device);

// The cards the devices emulate, by HYPERFUSE_EMU_PROFILE's keys ("t4", "h100", ...): device d
// gets profiles[d], the last one repeating; takes effect at the next configure_devices. Throws
// std::logic_error for an unknown key or an empty list.
void set_device_profiles(const std::vector<std::string>& profiles);
std::vector<std::string> device_profiles();
// The architectures the emulated build holds code for, as a CMake list ("90", "75-real;90-virtual",
// HYPERFUSE_EMU_BUILT_ARCHITECTURES); throws std::logic_error for a malformed list.
void set_built_architectures(const std::string& architectures);
std::string built_architectures();

// Clears every device's sticky error and the calling thread's last error, and drops work queued
// on streams: what a new process would see. For tests that provoke errors on purpose.
void clear_errors();

// The last program error the emulation caught (race, bad pointer, divergent barrier...), and
// how many it has caught.
std::string last_violation();
std::uint64_t violation_count();

// Keeps a copy of each block's dynamic shared memory as the block leaves it, for launches of
// kernels whose name contains `kernel_name` ("" stops): for tests that compare what a kernel left
// in its shared buffers with the CPU's (tests/fused_numbering_test.cpp). A block that fails is not
// kept.
void capture_shared_memory(const std::string& kernel_name);
// The copies of the last launch captured, one per block in launch order.
std::vector<std::vector<unsigned char>> captured_shared_memory();

// True when this build records memory accesses for the race check (the plain emulation build,
// not the AddressSanitizer one).
bool race_check_built();
// Turns the race check's recording on or off for later launches (HYPERFUSE_EMU_RACE_CHECK=0 starts
// with it off); the instrumentation stays, at the cost of a call per access.
void enable_race_check(bool on);
// Whether later launches are recorded (HYPERFUSE_EMU_RACE_CHECK and enable_race_check).
bool race_check_enabled();

}  // namespace hf_emu
