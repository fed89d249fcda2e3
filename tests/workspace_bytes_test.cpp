// Every backend's workspace_bytes (the figure the memory plan and the GPU pack sizing read) is
// exactly what a workspace of that pack allocates, for odd shapes, with and without dropout: on
// the CPU the bytes its allocations took, on the CUDA emulation the device memory the emulated
// runtime itself counts (the CUDA half skips without a device, or fails there with
// HYPERFUSE_REQUIRE_GPU=1); GPU packs are sized by the same function; an allocation that cannot
// succeed names its buffer.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "host/run/device_choice.hpp"
#include "host/training/pack_trainer.hpp"
#include "kernels/backend/out_of_host_memory.hpp"
#include "kernels/backend_registry.hpp"
#include "kernels/cpu/aligned_floats.hpp"
#include "tests/address_sanitizer.hpp"
#include "tests/gpu_available.hpp"

namespace hf {
namespace {

PackSpec pack(std::vector<int> widths, int networks, double dropout) {
  PackSpec spec{ParameterLayout(std::move(widths)), 32, {}};
  for (int m = 0; m < networks; ++m) {
    PackMember member;
    member.dropout = m == networks - 1 ? dropout : 0.0;  // one network with dropout is enough
    member.seed = static_cast<std::uint64_t>(m + 1);
    spec.members.push_back(member);
  }
  return spec;
}

// An H100's figures, for the arithmetic tests that run without a device.
DeviceLimits h100_limits() {
  DeviceLimits limits;
  limits.compute_major = 9;
  limits.shared_bytes_per_block = 227 * 1024;
  limits.registers_per_multiprocessor = 65536;
  limits.multiprocessors = 132;
  limits.l2_bytes = std::size_t{50} << 20;
  limits.has_kernel_image = true;
  return limits;
}

struct Shape {
  std::vector<int> widths;
  int networks;
  int rows;
  double dropout;
};

const std::vector<Shape> kShapes = {
    {{30, 60, 90, 60, 30, 15, 1}, 1, 256, 0.0},  // the seed's network, evaluation rows
    {{30, 60, 90, 60, 30, 15, 1}, 1, 256, 0.2},  // with the dropout buffers
    {{5, 7, 1}, 3, 13, 0.5},                     // odd sizes, several networks
    {{11, 1}, 7, 1, 0.0},                        // no hidden layer, one row
    {{3, 5, 7, 11, 13, 1}, 5, 33, 0.1},
};

// The parts of a host backend's plan: four parameter-sized arrays at least, three layer buffers
// per layer, and some bookkeeping.
void expect_every_part(const WorkspaceBytes& planned, const PackSpec& spec, const Shape& s) {
  EXPECT_GE(planned.parameters, 4 * spec.layout.size * sizeof(float) * static_cast<std::size_t>(s.networks));
  EXPECT_GE(planned.activations, 3 * static_cast<std::size_t>(s.rows) * sizeof(float) *
                                     static_cast<std::size_t>(s.networks) * spec.layout.layers());
  EXPECT_GT(planned.other, 0u);
}

std::string trace(const std::string& backend, const Shape& s) {
  return backend + ", " + std::to_string(s.networks) + " networks, " + std::to_string(s.rows) + " rows, dropout " +
         std::to_string(s.dropout);
}

// Host backends: the bytes the workspace's allocations took (it adds up each buffer's size as it
// allocates it).
TEST(WorkspaceBytes, EveryHostBackendAllocatesExactlyWhatItsFunctionSays) {
  int backends = 0;
  for (const BackendEntry& entry : registered_backends()) {
    if (entry.accelerator) continue;
    ++backends;
    ASSERT_TRUE(entry.workspace_bytes) << entry.name << " registers no workspace_bytes";
    std::unique_ptr<Backend> backend = entry.make(0);
    for (const Shape& s : kShapes) {
      SCOPED_TRACE(trace(entry.name, s));
      const PackSpec spec = pack(s.widths, s.networks, s.dropout);
      const WorkspaceBytes planned = entry.workspace_bytes(spec, s.rows, DeviceLimits{});
      const std::unique_ptr<PackWorkspace> workspace = backend->create_workspace(spec, s.rows);
      EXPECT_EQ(workspace->allocated_bytes(), planned.total());
      expect_every_part(planned, spec, s);
    }
  }
  EXPECT_GE(backends, 1) << "the CPU backend is always there";
}

// The CUDA backend on device 0. On the emulation, the device memory a workspace holds as the
// emulated runtime counts it (every cudaMalloc less every cudaFree), so a buffer the backend's
// own sum forgets, or counts but never allocates, shows; and all of it is freed with the
// workspace. On a real GPU, whose driver rounds allocations up, the backend's own sum. The fused
// path holds the parameters and two optimizer states; the step-by-step buffers (gradients, Z,
// activation, gradient and output per layer, the batch) come only once a primitive runs.
TEST(WorkspaceBytes, TheCudaBackendAllocatesExactlyWhatItsFunctionSays) {
  HF_SKIP_UNLESS_GPU_VISIBLE("no CUDA device visible (or no CUDA backend in this build)");
  const BackendEntry* entry = testing::gpu_backend_entry();
  ASSERT_NE(entry, nullptr);
  ASSERT_TRUE(entry->workspace_bytes) << entry->name << " registers no workspace_bytes";
  std::unique_ptr<Backend> backend = entry->make(0);
  const DeviceLimits device = entry->device_memory(0).limits;
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(trace(entry->name, s));
    const PackSpec spec = pack(s.widths, s.networks, s.dropout);
    const WorkspaceBytes planned = entry->workspace_bytes(spec, s.rows, device);
    const std::size_t networks = static_cast<std::size_t>(s.networks), rows = static_cast<std::size_t>(s.rows);
    EXPECT_EQ(planned.parameters, 3 * spec.layout.size * sizeof(float) * networks);
    EXPECT_GT(planned.other, 0u);
    std::size_t step_by_step = spec.layout.size * networks + rows * (spec.layout.in(0) + 1);
    for (int l = 0; l < spec.layout.layers(); ++l)
      step_by_step += (l + 1 < spec.layout.layers() ? 4 : 3) * networks * rows * spec.layout.out(l);
    const std::optional<std::size_t> before = testing::emulated_device_bytes_allocated(0);
    {
      const std::unique_ptr<PackWorkspace> workspace = backend->create_workspace(spec, s.rows);
      EXPECT_EQ(workspace->allocated_bytes(), planned.total());
      if (before) {
        EXPECT_EQ(*testing::emulated_device_bytes_allocated(0) - *before, planned.total())
            << "the device memory the emulated runtime allocated for the workspace";
      }
      const std::vector<float> features(rows * spec.layout.in(0), 0.5f), labels(rows, 1.0f);
      workspace->load_batch(features.data(), labels.data(), s.rows);
      EXPECT_EQ(workspace->allocated_bytes(), planned.total() + step_by_step * sizeof(float));
      if (before) {
        EXPECT_EQ(*testing::emulated_device_bytes_allocated(0) - *before, workspace->allocated_bytes())
            << "the step-by-step buffers as the emulated runtime allocated them";
      }
    }
    if (before) {
      EXPECT_EQ(*testing::emulated_device_bytes_allocated(0), *before) << "freed with the workspace";
    }
  }
}

TEST(WorkspaceBytes, DropoutAndMoreNetworksTakeMore) {
  for (const BackendEntry& entry : registered_backends()) {
    SCOPED_TRACE(entry.name);
    const DeviceLimits device = h100_limits();
    const WorkspaceBytes without = entry.workspace_bytes(pack({30, 60, 1}, 2, 0.0), 64, device);
    const WorkspaceBytes with = entry.workspace_bytes(pack({30, 60, 1}, 2, 0.3), 64, device);
    const WorkspaceBytes more = entry.workspace_bytes(pack({30, 60, 1}, 4, 0.0), 64, device);
    EXPECT_GE(with.total(), without.total());
    EXPECT_GT(more.parameters, without.parameters);
    EXPECT_GT(more.total(), without.total());
    if (!entry.accelerator) {
      EXPECT_GT(more.activations, without.activations);
    }
  }
}

// The GPU pack sizing reads the accelerator's workspace_bytes: the pack it chooses fits the
// budget and twice as many networks would not. Arithmetic only, so it runs without a device.
TEST(WorkspaceBytes, GpuPacksAreSizedByTheSameFunction) {
  if (testing::gpu_backend_entry() == nullptr) GTEST_SKIP() << "this build has no CUDA backend";
  for (const BackendEntry& entry : registered_backends()) {
    if (!entry.accelerator) continue;
    DeviceChoice choice;
    choice.device = Device::Cuda;
    choice.gpus = {0};
    const std::vector<DeviceMemory> memory{
        {"test device", std::size_t{3} << 30, std::size_t{4} << 30, 132, h100_limits(), ""}};
    const std::size_t budget = gpu_pack_budget(memory);
    EXPECT_EQ(budget, std::size_t{3} << 29);
    const int train_rows = 10000, test_rows = 2500;
    const PackSizeRule rule = pack_size_rule(choice, memory, train_rows, test_rows);
    for (const std::vector<int>& widths : std::vector<std::vector<int>>{{30, 60, 90, 60, 30, 15, 1}, {30, 3000, 1}}) {
      for (int batch_size : {32, 5000}) {
        const ParameterLayout layout(widths);
        const int networks = rule(layout, batch_size);
        const int rows = workspace_rows(batch_size, train_rows, test_rows);
        SCOPED_TRACE(std::to_string(widths[1]) + " units, batch " + std::to_string(batch_size));
        EXPECT_LE(entry.workspace_bytes(pack_of(layout, batch_size, networks), rows, h100_limits()).total(), budget);
        if (networks < kMaxGpuPackSize) {
          EXPECT_GT(entry.workspace_bytes(pack_of(layout, batch_size, 2 * networks), rows, h100_limits()).total(),
                    budget);
        }
      }
    }
  }
}

TEST(WorkspaceBytes, AnAllocationThatCannotSucceedNamesItsBufferAndSize) {
  if (testing::kUnderAddressSanitizer) GTEST_SKIP() << "AddressSanitizer stops at a failed allocation";
  const BackendEntry* cpu = find_backend("cpu");
  ASSERT_NE(cpu, nullptr);
  // 2^58 weights: no machine has the 1 EiB, so the allocator refuses at once.
  const PackSpec spec = pack({30, 1 << 29, 1 << 29, 1}, 1, 0.0);
  try {
    cpu->make(0)->create_workspace(spec, 1);
    FAIL() << "expected OutOfHostMemory";
  } catch (const OutOfHostMemory& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cannot allocate 1.00 EiB"), std::string::npos) << message;
    EXPECT_NE(message.find("for the parameters of a CPU workspace"), std::string::npos) << message;
    EXPECT_NE(message.find("widths 30-536870912-536870912-1"), std::string::npos) << message;
    EXPECT_EQ(e.bytes(), AlignedFloats::bytes_for(spec.layout.size)) << message;
  }
}

}  // namespace
}  // namespace hf
