// The block scheduler: GPU threads as fibers on reused stacks, CUDA's barrier and warp
// collective semantics, and the checks that make a divergent barrier or collective an error.
//
// A block runs in rounds: every thread able to run runs, in thread order, until it exits or
// waits at a barrier or collective (kernels without any run each thread to completion, one after
// another on the same stack). When none can run, pending warp collectives are resolved first,
// then the block barrier; what cannot be resolved is a program error (on a GPU: a hang or
// undefined behaviour) and ends the launch with cudaErrorLaunchFailure.
#include "tests/cuda_emulation/src/block_scheduler.hpp"

#include <sys/mman.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <vector>

#include "tests/cuda_emulation/src/device_profiles.hpp"
#include "tests/cuda_emulation/src/kernel_counters.hpp"
#include "tests/cuda_emulation/src/race_check.hpp"
#include "tests/cuda_emulation/src/runtime_state.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define HF_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HF_EMU_ASAN 1
#endif
#endif
#ifndef HF_EMU_ASAN
#define HF_EMU_ASAN 0
#endif
#if HF_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace hf_emu {

namespace detail {
thread_local ThreadBuiltins builtins{};
}  // namespace detail

namespace {

namespace fcontext = boost::context::detail;

// AddressSanitizer must know when the stack changes, or it reports the fibers' frames as stack
// overflows and loses track of fake stacks.
void start_switch(void** fake_stack_save, const void* bottom, std::size_t size) {
#if HF_EMU_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}
void finish_switch(void* fake_stack_save, const void** old_bottom, std::size_t* old_size) {
#if HF_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_save, old_bottom, old_size);
#else
  (void)fake_stack_save, (void)old_bottom, (void)old_size;
#endif
}

// A fiber stack with a guard page below it, so an overflow faults instead of corrupting memory.
struct FiberStack {
  char* mapping = nullptr;
  std::size_t mapping_bytes = 0;
  char* bottom = nullptr;  // lowest usable byte
  std::size_t size = 0;
  bool abandoned = false;  // a fiber was left suspended on it: its frames are still poisoned
  char* top() const { return bottom + size; }
};

std::size_t stack_bytes() {
  static const std::size_t bytes = [] {
    std::size_t kib = HF_EMU_ASAN ? 512 : 256;
    if (const char* v = std::getenv("HYPERFUSE_EMU_STACK_KB")) kib = std::strtoull(v, nullptr, 10);
    return std::max<std::size_t>(kib, 64) * 1024;
  }();
  return bytes;
}

// Stacks are kept per OS thread and reused for every launch it runs.
class StackPool {
 public:
  ~StackPool() {
    for (FiberStack* s : all_) {
      munmap(s->mapping, s->mapping_bytes);
      delete s;
    }
  }
  FiberStack* acquire() {
    if (free_.empty()) {
      auto* s = new FiberStack;
      const std::size_t guard = 4096;
      s->mapping_bytes = stack_bytes() + guard;
      void* m =
          mmap(nullptr, s->mapping_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED) throw std::bad_alloc();
      s->mapping = static_cast<char*>(m);
      mprotect(s->mapping, guard, PROT_NONE);
      s->bottom = s->mapping + guard;
      s->size = stack_bytes();
      all_.push_back(s);
      return s;
    }
    FiberStack* s = free_.back();
    free_.pop_back();
    if (s->abandoned) {
#if HF_EMU_ASAN
      __asan_unpoison_memory_region(s->bottom, s->size);
#endif
      s->abandoned = false;
    }
    return s;
  }
  void release(FiberStack* s) { free_.push_back(s); }

 private:
  std::vector<FiberStack*> all_;
  std::vector<FiberStack*> free_;
};

enum class State : std::uint8_t { NotStarted, Runnable, AtBarrier, AtWarp, Exited };

struct GpuThread {
  fcontext::fcontext_t context = nullptr;
  FiberStack* stack = nullptr;
  void* fake_stack = nullptr;
  State state = State::NotStarted;
  uint3 index{};
  unsigned linear = 0;
  std::uint32_t lane_epoch = 0;  // __syncwarp generations, for the race check
  BarrierKind barrier_kind = BarrierKind::Plain;
  int predicate = 0;
  Site site{nullptr, 0};
  WarpRequest request{};
  std::uint64_t result = 0;
  bool resolved = false;
};

struct BlockContext {
  const GridLaunch* launch = nullptr;
  uint3 block_index{};
  std::uint64_t block_linear = 0;
  std::vector<GpuThread> threads;
  unsigned thread_count = 0;
  fcontext::fcontext_t scheduler = nullptr;
  GpuThread* running = nullptr;
  const void* scheduler_stack_bottom = nullptr;
  std::size_t scheduler_stack_size = 0;
  void* scheduler_fake_stack = nullptr;
  void* dynamic_shared = nullptr;
  bool aborted = false;
  cudaError_t abort_error = cudaSuccess;
  StackPool stacks;
};

thread_local BlockContext* tls_block = nullptr;

BlockContext& running_block() {
  BlockContext* block = tls_block;
  if (block == nullptr || block->running == nullptr) {
    std::fprintf(stderr,
                 "hyperfuse CUDA emulation: a device built-in (barrier, collective, shared memory) was "
                 "called outside a kernel\n");
    std::abort();
  }
  return *block;
}

std::string triple(const uint3& v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}

uint3 unflatten(std::uint64_t linear, const dim3& shape) {
  return uint3{static_cast<unsigned>(linear % shape.x), static_cast<unsigned>((linear / shape.x) % shape.y),
               static_cast<unsigned>(linear / (static_cast<std::uint64_t>(shape.x) * shape.y))};
}

std::string where(const Site& site) {
  return site.file == nullptr ? std::string("?") : std::string(site.file) + ":" + std::to_string(site.line);
}

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::Shuffle: return "__shfl_sync";
    case WarpOp::ShuffleUp: return "__shfl_up_sync";
    case WarpOp::ShuffleDown: return "__shfl_down_sync";
    case WarpOp::ShuffleXor: return "__shfl_xor_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
    case WarpOp::Sync: return "__syncwarp";
    case WarpOp::ActiveMask: return "__activemask";
    case WarpOp::ReduceAdd: return "__reduce_add_sync";
    case WarpOp::ReduceMin: return "__reduce_min_sync";
    case WarpOp::ReduceMax: return "__reduce_max_sync";
    case WarpOp::ReduceAnd: return "__reduce_and_sync";
    case WarpOp::ReduceOr: return "__reduce_or_sync";
    case WarpOp::ReduceXor: return "__reduce_xor_sync";
    case WarpOp::MatchAny: return "__match_any_sync";
  }
  return "a warp collective";
}

const char* barrier_name(BarrierKind kind) {
  switch (kind) {
    case BarrierKind::Plain: return "__syncthreads";
    case BarrierKind::Count: return "__syncthreads_count";
    case BarrierKind::And: return "__syncthreads_and";
    case BarrierKind::Or: return "__syncthreads_or";
  }
  return "__syncthreads";
}

std::string hex(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

// Ends the block's launch with a program error (reported now); suspended fibers are abandoned.
void fail_block(BlockContext& block, const std::string& message, cudaError_t error = cudaErrorLaunchFailure) {
  if (!block.aborted) {
    block.aborted = true;
    block.abort_error = error;
    report_violation("kernel `" + block.launch->kernel_name + "`, block " + triple(block.block_index) + ": " + message);
  }
}

std::string thread_name(const BlockContext& block, const GpuThread& t) {
  (void)block;
  return "thread " + triple(t.index);
}

__attribute__((no_sanitize("address"))) void fiber_main(fcontext::transfer_t from) {
  BlockContext& block = *static_cast<BlockContext*>(from.data);
  block.scheduler = from.fctx;
  finish_switch(nullptr, &block.scheduler_stack_bottom, &block.scheduler_stack_size);
  try {
    block.launch->body(block.launch->arguments.get());
  } catch (...) {
    fail_block(block, thread_name(block, *block.running) + " threw a C++ exception");
  }
  block.running->state = State::Exited;
  start_switch(nullptr, block.scheduler_stack_bottom, block.scheduler_stack_size);
  fcontext::jump_fcontext(block.scheduler, nullptr);
  __builtin_unreachable();
}

// From a fiber: back to the scheduler until it resumes this thread.
void suspend(BlockContext& block, GpuThread& me) {
  start_switch(&me.fake_stack, block.scheduler_stack_bottom, block.scheduler_stack_size);
  const fcontext::transfer_t back = fcontext::jump_fcontext(block.scheduler, nullptr);
  block.scheduler = back.fctx;
  finish_switch(me.fake_stack, nullptr, nullptr);
}

// From the scheduler: runs `t` until it exits or waits.
void resume(BlockContext& block, GpuThread& t) {
  block.running = &t;
  detail::builtins.thread_index = t.index;
  if (t.state == State::NotStarted) {
    t.stack = block.stacks.acquire();
    t.context = fcontext::make_fcontext(t.stack->top(), t.stack->size, fiber_main);
  }
  t.state = State::Runnable;
  race::on_resume(t.linear, t.lane_epoch, t.stack->bottom, t.stack->size);
  start_switch(&block.scheduler_fake_stack, t.stack->bottom, t.stack->size);
  const fcontext::transfer_t back = fcontext::jump_fcontext(t.context, &block);
  finish_switch(block.scheduler_fake_stack, nullptr, nullptr);
  t.context = back.fctx;
  block.running = nullptr;
  if (t.state == State::Exited) {
    block.stacks.release(t.stack);
    t.stack = nullptr;
  }
}

// The lane a shuffle by `lane` reads, as CUDA computes it: a source outside the lane's segment
// of `width` lanes reads the lane itself.
unsigned shuffle_source(WarpOp op, unsigned lane, int operand, int width) {
  if (width <= 0) return lane;
  const unsigned base = (lane / width) * width;
  switch (op) {
    case WarpOp::Shuffle: return base + (static_cast<unsigned>(operand) & (width - 1));
    case WarpOp::ShuffleUp: return lane - base >= static_cast<unsigned>(operand) ? lane - operand : lane;
    case WarpOp::ShuffleDown:
      return lane - base + static_cast<unsigned>(operand) < static_cast<unsigned>(width) ? lane + operand : lane;
    case WarpOp::ShuffleXor: {
      const unsigned s = lane ^ static_cast<unsigned>(operand);
      return s < base + width ? s : lane;  // earlier segments may be read, later ones not (as in CUDA)
    }
    default: return lane;
  }
}

// "3, 5-7" for the lanes of a mask.
std::string lane_list(unsigned lanes) {
  std::string text;
  for (unsigned l = 0; l < kWarpSize; ++l) {
    if (!(lanes >> l & 1u)) continue;
    unsigned last = l;
    while (last + 1 < kWarpSize && (lanes >> (last + 1) & 1u)) ++last;
    if (!text.empty()) text += ", ";
    text += last == l ? std::to_string(l) : std::to_string(l) + "-" + std::to_string(last);
    l = last;
  }
  return text;
}

// Resolves every warp collective that can be; a lane named in a mask that waits elsewhere, a
// mask leaving out its caller, or lanes of one mask calling different collectives are errors.
void resolve_warps(BlockContext& block) {
  const unsigned n = block.thread_count;
  for (GpuThread& t : block.threads) t.resolved = false;
  for (unsigned first = 0; first < n; first += kWarpSize) {
    const unsigned lanes = std::min<unsigned>(kWarpSize, n - first);
    GpuThread* warp = &block.threads[first];
    // A mask that leaves out its caller first: the other lanes' view of that mask is beside the point.
    for (unsigned lane = 0; lane < lanes; ++lane) {
      const GpuThread& caller = warp[lane];
      const WarpRequest& r = caller.request;
      if (caller.state != State::AtWarp || r.op == WarpOp::ActiveMask || (r.mask >> lane & 1u)) continue;
      fail_block(block, thread_name(block, caller) + " calls " + op_name(r.op) + " at " + where(r.site) +
                            " with mask " + hex(r.mask) + ", which leaves out the calling lane " +
                            std::to_string(lane));
      return;
    }
    for (unsigned lane = 0; lane < lanes; ++lane) {
      GpuThread& caller = warp[lane];
      if (caller.state != State::AtWarp || caller.resolved) continue;
      const WarpRequest& r = caller.request;
      if (r.op == WarpOp::ActiveMask) {
        unsigned active = 0;
        for (unsigned l = 0; l < lanes; ++l)
          if (warp[l].state == State::AtWarp && warp[l].request.op == WarpOp::ActiveMask) active |= 1u << l;
        for (unsigned l = 0; l < lanes; ++l) {
          if (!(active >> l & 1u)) continue;
          warp[l].result = active;
          warp[l].resolved = true;
        }
        continue;
      }
      const auto call = [&] { return std::string(op_name(r.op)) + " at " + where(r.site); };
      if (r.op != WarpOp::Sync && (r.width < 1 || r.width > kWarpSize || (r.width & (r.width - 1)) != 0)) {
        fail_block(block, thread_name(block, caller) + " calls " + call() + " with width " + std::to_string(r.width) +
                              "; it must be a power of two from 1 to 32");
        return;
      }
      unsigned group = 0, gone = 0;
      for (unsigned l = 0; l < kWarpSize; ++l) {
        if (!(r.mask >> l & 1u)) continue;
        if (l >= lanes || warp[l].state == State::Exited) {  // exited lanes of a mask do not take part
          gone |= 1u << l;
          continue;
        }
        const GpuThread& other = warp[l];
        if (other.state == State::AtBarrier) {
          fail_block(block, thread_name(block, caller) + " calls " + call() + " with mask " + hex(r.mask) +
                                ", but lane " + std::to_string(l) + " (" + thread_name(block, other) + ") waits at " +
                                barrier_name(other.barrier_kind) + " at " + where(other.site) +
                                " (on a GPU: a hang or undefined behaviour)");
          return;
        }
        if (other.request.op != r.op || other.request.mask != r.mask ||
            (r.op != WarpOp::Sync && other.request.width != r.width)) {
          fail_block(block, "divergent warp collective: " + thread_name(block, caller) + " calls " + call() +
                                " with mask " + hex(r.mask) + ", but lane " + std::to_string(l) + " (" +
                                thread_name(block, other) + ") calls " + op_name(other.request.op) + " at " +
                                where(other.request.site) + " with mask " + hex(other.request.mask) +
                                "; every lane named in a mask must call the same collective with the same mask");
          return;
        }
        group |= 1u << l;
      }
      // A vote, reduction or match whose mask names a lane that exited (or that the block does not
      // have) combines fewer values than the mask says: undefined on a GPU, and a missing lane's
      // predicate or value is silently dropped.
      const bool combines_lanes = r.op != WarpOp::Sync && r.op != WarpOp::Shuffle && r.op != WarpOp::ShuffleUp &&
                                  r.op != WarpOp::ShuffleDown && r.op != WarpOp::ShuffleXor;
      if (combines_lanes && gone != 0) {
        fail_block(block, thread_name(block, caller) + " calls " + call() + " with mask " + hex(r.mask) +
                              ", which names lanes " + lane_list(gone) +
                              " that have exited or do not exist in the block: the result would leave out their "
                              "values (on a GPU: undefined)");
        return;
      }
      // Every lane of the group gets its result.
      const auto value_of = [&](unsigned l) { return warp[l].request.value; };
      std::uint32_t next_epoch = 0;
      for (unsigned l = 0; l < kWarpSize; ++l)
        if (group >> l & 1u) next_epoch = std::max(next_epoch, warp[l].lane_epoch + 1);
      // A shuffle must read a lane of its mask that takes part: PTX leaves any other value
      // undefined. Sources outside the width's segment read the caller's own value, as in CUDA.
      for (unsigned l = 0; l < kWarpSize; ++l) {
        if (!(group >> l & 1u) || combines_lanes || r.op == WarpOp::Sync) continue;
        const unsigned source = shuffle_source(r.op, l, warp[l].request.operand, r.width);
        if (source < kWarpSize && (group >> source & 1u)) continue;
        const bool in_mask = source < kWarpSize && (r.mask >> source & 1u);
        fail_block(block, thread_name(block, warp[l]) + " (lane " + std::to_string(l) + ") calls " + call() +
                              " with mask " + hex(r.mask) + " and reads lane " + std::to_string(source) + ", which " +
                              (in_mask ? "has exited or does not exist in the block" : "is not in the mask") +
                              "; a shuffle may only read lanes of its mask that take part (on a GPU: an "
                              "undefined value)");
        return;
      }
      for (unsigned l = 0; l < kWarpSize; ++l) {
        if (!(group >> l & 1u)) continue;
        GpuThread& t = warp[l];
        const unsigned source = shuffle_source(r.op, l, t.request.operand, r.width);
        std::uint64_t result = 0;
        switch (r.op) {
          case WarpOp::Shuffle:
          case WarpOp::ShuffleUp:
          case WarpOp::ShuffleDown:
          case WarpOp::ShuffleXor: result = value_of(source); break;
          case WarpOp::Ballot:
            for (unsigned o = 0; o < kWarpSize; ++o)
              if ((group >> o & 1u) && value_of(o) != 0) result |= std::uint64_t{1} << o;
            break;
          case WarpOp::Any:
            for (unsigned o = 0; o < kWarpSize; ++o)
              if ((group >> o & 1u) && value_of(o) != 0) result = 1;
            break;
          case WarpOp::All:
            result = 1;
            for (unsigned o = 0; o < kWarpSize; ++o)
              if ((group >> o & 1u) && value_of(o) == 0) result = 0;
            break;
          case WarpOp::Sync: t.lane_epoch = next_epoch; break;
          case WarpOp::MatchAny:
            for (unsigned o = 0; o < kWarpSize; ++o)
              if ((group >> o & 1u) && value_of(o) == value_of(l)) result |= std::uint64_t{1} << o;
            break;
          case WarpOp::ReduceAdd:
          case WarpOp::ReduceMin:
          case WarpOp::ReduceMax:
          case WarpOp::ReduceAnd:
          case WarpOp::ReduceOr:
          case WarpOp::ReduceXor: {
            bool started = false;
            std::uint32_t acc = 0;
            for (unsigned o = 0; o < kWarpSize; ++o) {
              if (!(group >> o & 1u)) continue;
              const auto v = static_cast<std::uint32_t>(value_of(o));
              if (!started) {
                acc = v;
                started = true;
                continue;
              }
              const auto sa = static_cast<std::int32_t>(acc), sv = static_cast<std::int32_t>(v);
              switch (r.op) {
                case WarpOp::ReduceAdd: acc += v; break;
                case WarpOp::ReduceMin: acc = r.value_signed ? (sv < sa ? v : acc) : std::min(acc, v); break;
                case WarpOp::ReduceMax: acc = r.value_signed ? (sv > sa ? v : acc) : std::max(acc, v); break;
                case WarpOp::ReduceAnd: acc &= v; break;
                case WarpOp::ReduceOr: acc |= v; break;
                default: acc ^= v; break;
              }
            }
            result = acc;
            break;
          }
          case WarpOp::ActiveMask: break;
        }
        t.result = result;
        t.resolved = true;
      }
    }
  }
  for (GpuThread& t : block.threads)
    if (t.resolved) t.state = State::Runnable;
}

// Every thread of the block must wait at the same __syncthreads (same kind, same call site).
void resolve_barrier(BlockContext& block) {
  const GpuThread* first = nullptr;
  for (const GpuThread& t : block.threads)
    if (t.state == State::AtBarrier) {
      first = &t;
      break;
    }
  const std::string first_call = std::string(barrier_name(first->barrier_kind)) + " at " + where(first->site);
  int count = 0, waiting = 0;
  for (const GpuThread& t : block.threads) {
    if (t.state == State::Exited) {
      fail_block(block, thread_name(block, t) + " exited without reaching the " + first_call + " where " +
                            thread_name(block, *first) +
                            " waits; every thread of a block must reach each __syncthreads (on a GPU: a hang or "
                            "undefined behaviour)");
      return;
    }
    if (t.barrier_kind != first->barrier_kind || t.site.line != first->site.line ||
        std::strcmp(t.site.file, first->site.file) != 0) {
      fail_block(block, "divergent barrier: " + thread_name(block, *first) + " waits at " + first_call + ", but " +
                            thread_name(block, t) + " waits at " + barrier_name(t.barrier_kind) + " at " +
                            where(t.site) + "; every thread of a block must reach the same __syncthreads");
      return;
    }
    count += t.predicate != 0;
    ++waiting;
  }
  int result = 0;
  switch (first->barrier_kind) {
    case BarrierKind::Plain: break;
    case BarrierKind::Count: result = count; break;
    case BarrierKind::And: result = count == waiting; break;
    case BarrierKind::Or: result = count > 0; break;
  }
  for (GpuThread& t : block.threads) {
    t.state = State::Runnable;
    t.result = static_cast<std::uint64_t>(result);
  }
  race::on_barrier();
  profiler::on_barrier(first->site);
}

void run_block(BlockContext& block) {
  for (;;) {
    for (GpuThread& t : block.threads) {
      if (t.state != State::NotStarted && t.state != State::Runnable) continue;
      resume(block, t);
      if (block.aborted) return;
    }
    bool at_warp = false, at_barrier = false;
    for (const GpuThread& t : block.threads) {
      at_warp = at_warp || t.state == State::AtWarp;
      at_barrier = at_barrier || t.state == State::AtBarrier;
    }
    if (at_warp) {
      resolve_warps(block);
    } else if (at_barrier) {
      resolve_barrier(block);
    } else {
      return;  // every thread exited
    }
    if (block.aborted) return;
  }
}

BlockContext& block_context() {
  thread_local BlockContext context;
  return context;
}

}  // namespace

int block_barrier(BarrierKind kind, int predicate, Site site) {
  BlockContext& block = running_block();
  GpuThread& me = *block.running;
  me.state = State::AtBarrier;
  me.barrier_kind = kind;
  me.predicate = predicate;
  me.site = site;
  suspend(block, me);
  return static_cast<int>(me.result);
}

std::uint64_t warp_collective(const WarpRequest& request) {
  BlockContext& block = running_block();
  GpuThread& me = *block.running;
  // The warp reductions are sm_80 instructions: nvcc refuses them for an older target, so on a
  // profile below 8.0 (a T4) the kernel could not have been built.
  const bool reduction = request.op >= WarpOp::ReduceAdd && request.op <= WarpOp::ReduceXor;
  const DeviceProfile* card = block.launch->profile;
  if (reduction && card != nullptr && card->compute_capability() < 80) {
    // A plain buffer: abort_kernel never returns, so nothing on this fiber's stack is destroyed.
    char message[512];
    std::snprintf(message, sizeof message,
                  "%s at %s needs compute capability 8.0 or newer, but the device is a %s (%d.%d): nvcc does not "
                  "compile it for that architecture",
                  op_name(request.op), where(request.site).c_str(), card->name, card->major, card->minor);
    abort_kernel(cudaErrorLaunchFailure, message);
  }
  profiler::on_collective(me.linear);
  me.state = State::AtWarp;
  me.request = request;
  suspend(block, me);
  return me.result;
}

void* dynamic_shared_memory() { return running_block().dynamic_shared; }

void abort_kernel(cudaError_t error, const char* message) {
  BlockContext& block = running_block();
  GpuThread& me = *block.running;
  fail_block(block, thread_name(block, me) + ": " + message, error);
  // Never resumed: the scheduler sees the abort and abandons this fiber with the others.
  suspend(block, me);
  std::abort();
}

std::string thread_description(std::uint64_t block_linear, unsigned thread_linear) {
  const BlockContext& block = block_context();
  return "block " + triple(unflatten(block_linear, block.launch->grid)) + " thread " +
         triple(unflatten(thread_linear, block.launch->block));
}

std::string running_thread_description() {
  const BlockContext& block = block_context();
  if (block.running == nullptr) return "?";
  return thread_description(block.block_linear, block.running->linear);
}

cudaError_t run_grid(const GridLaunch& launch) {
  BlockContext& block = block_context();
  BlockContext* const outer = tls_block;
  tls_block = &block;
  block.launch = &launch;
  block.aborted = false;
  block.abort_error = cudaSuccess;
  block.thread_count = launch.block.x * launch.block.y * launch.block.z;
  block.threads.assign(block.thread_count, GpuThread{});
  for (unsigned i = 0; i < block.thread_count; ++i) {
    block.threads[i].linear = i;
    block.threads[i].index = unflatten(i, launch.block);
  }
  detail::builtins.block_dim = launch.block;
  detail::builtins.grid_dim = launch.grid;
  race::begin_launch(launch);
  profiler::begin_launch(launch);
  // Dynamic shared memory, one allocation per launch between redzones (the plain build; the race
  // check reports an access that lands in them), every byte 0xFF again for each block, so a read
  // before any write gives NaN; under ASan exactly the launch's size, so it sees an overrun.
  void* storage = nullptr;
  const std::size_t storage_bytes = std::max<std::size_t>(launch.shared_bytes, 1) + 2 * kRedzoneBytes;
  if (posix_memalign(&storage, 128, storage_bytes) != 0) throw std::bad_alloc();
  std::memset(storage, 0xFF, storage_bytes);
  void* const shared = static_cast<char*>(storage) + kRedzoneBytes;
  bool capture = false;  // capture_shared_memory asked for this kernel's shared memory
  {
    Runtime& state = runtime();
    std::lock_guard<std::mutex> lock(state.mutex);
    capture = !state.capture_kernel.empty() && launch.kernel_name.find(state.capture_kernel) != std::string::npos;
    if (capture) state.captured_shared.clear();
  }
  const std::uint64_t blocks = static_cast<std::uint64_t>(launch.grid.x) * launch.grid.y * launch.grid.z;
  for (std::uint64_t b = 0; b < blocks && !block.aborted; ++b) {
    block.block_linear = b;
    block.block_index = unflatten(b, launch.grid);
    detail::builtins.block_index = block.block_index;
    for (GpuThread& t : block.threads) {
      t.state = State::NotStarted;
      t.lane_epoch = 0;
    }
    if (b > 0) std::memset(shared, 0xFF, launch.shared_bytes);
    block.dynamic_shared = shared;
    race::begin_block(b, shared, launch.shared_bytes);
    profiler::begin_block(block.thread_count);
    run_block(block);
    race::end_block();
    if (!block.aborted) profiler::end_block();
    if (capture && !block.aborted) {
      const auto* bytes = static_cast<const unsigned char*>(shared);
      Runtime& state = runtime();
      std::lock_guard<std::mutex> lock(state.mutex);
      state.captured_shared.emplace_back(bytes, bytes + launch.shared_bytes);
    }
    block.dynamic_shared = nullptr;
  }
  std::free(storage);
  if (block.aborted) {
    for (GpuThread& t : block.threads) {
      if (t.stack == nullptr) continue;
      t.stack->abandoned = true;
      block.stacks.release(t.stack);
      t.stack = nullptr;
    }
  }
  race::end_launch();
  profiler::end_launch();
  tls_block = outer;
  return block.aborted ? block.abort_error : cudaSuccess;
}

}  // namespace hf_emu
