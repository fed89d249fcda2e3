// The race check: kernel translation units compiled with -fsanitize=thread instrumentation call
// the __tsan_* hooks (race_check.cpp defines them; libtsan is never linked) for every load and
// store; while a GPU thread runs, the hooks record accesses to device and shared memory in a
// per-launch shadow table and report two threads touching one address between the same two
// barriers, at least one writing, outside atomics (threads of different blocks never share a
// barrier). Reads of shared memory no thread of the block wrote are reported too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/cuda_emulation/src/block_scheduler.hpp"

namespace hf_emu::race {

// True when instrumented code is linked in (its module constructor called __tsan_init) and
// HYPERFUSE_EMU_RACE_CHECK is not 0.
bool enabled();

// Called by the block scheduler on the OS thread that runs the grid.
void begin_launch(const GridLaunch& launch);
void end_launch();
void begin_block(std::uint64_t block_linear, const void* dynamic_shared, std::size_t dynamic_bytes);
void end_block();
// The scheduler resumes a GPU thread whose fiber stack is [stack, stack + stack_bytes).
void on_resume(unsigned thread_linear, std::uint32_t lane_epoch, const void* stack, std::size_t stack_bytes);
void on_barrier();

// "file:line (function)" for a return address in instrumented code (addr2line); "" if unknown.
std::string source_location(const void* pc);
// The same for a host call site, with every level of inlining ("a.hpp:4 (f) in b.cpp:9 (g)").
std::string call_site(const void* pc);

// An atomic read-modify-write by the running GPU thread (atomics.cpp), called from code at `pc`.
void record_atomic(const void* address, std::size_t bytes, const void* pc);

}  // namespace hf_emu::race
