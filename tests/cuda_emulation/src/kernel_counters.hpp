// What a profiler would count in a kernel, counted on the emulation from the race check's
// access hooks and the block scheduler: shared-memory wavefronts per warp access against the
// minimum its width needs (bank conflicts), global 32-byte sectors per request, warps active per
// scheduler in each barrier interval, and barriers; per kernel and per barrier interval ("phase",
// named by the barrier that ends it). Off, and free, unless HYPERFUSE_EMU_COUNTERS is set or a
// test turns it on (emulation_control.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tests/cuda_emulation/src/block_scheduler.hpp"

namespace hf_emu::profiler {

// Whether launches starting now are counted.
bool enabled();

// Called by the block scheduler on the OS thread that runs the grid.
void begin_launch(const GridLaunch& launch);
void begin_block(unsigned thread_count);
// A barrier ended the block's current interval; `site` is the __syncthreads that did.
void on_barrier(Site site);
void end_block();
void end_launch();
// The running thread `thread` took part in a warp collective (evidence its warp is active).
void on_collective(unsigned thread);
// The running thread `thread` read or wrote `bytes` at `address` of shared (or global) memory
// from the instruction at `pc`. Called from the race check's hooks.
void on_access(unsigned thread, bool shared, std::uintptr_t address, std::size_t bytes, const void* pc);
// Forgets what was counted (reset_counters()).
void clear();

}  // namespace hf_emu::profiler
