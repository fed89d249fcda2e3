// Where a search trains: device and gpus resolved against this build and the visible devices,
// and the GPU pack size arithmetic.
#include <gtest/gtest.h>

#include <fstream>

#include "host/common/errors.hpp"
#include "host/run/device_choice.hpp"
#include "kernels/backend/device_errors.hpp"
#include "tests/gpu_available.hpp"
#if HYPERFUSE_CUDA_EMULATED
#include <gtest/gtest-spi.h>

#include "tests/cuda_emulation/emulation_control.hpp"
#endif

namespace hf {
namespace {

using testing::visible_gpus;

SearchConfig config_for(Device device, std::vector<int> gpus = {}) {
  SearchConfig config;
  config.source = "configs/example.toml";
  config.device = device;
  config.gpus = std::move(gpus);
  return config;
}

TEST(DeviceChoice, CpuIsTheCpuWithTheGivenThreads) {
  const DeviceChoice choice = choose_device(config_for(Device::Cpu, {0}), 3);
  EXPECT_EQ(choice.device, Device::Cpu);
  EXPECT_EQ(choice.threads, 3);
  EXPECT_STREQ(choice.backend_name(), "cpu");
  EXPECT_EQ(pack_size_rule(choice, gpu_memory(choice), 100, 100)(ParameterLayout({5, 3, 1}), 32), 1);
}

#if HYPERFUSE_CUDA_EMULATED
// The emulated devices as this test needs them, and as the process had them afterwards.
class EmulatedDevices {
 public:
  EmulatedDevices(int count, const std::vector<std::size_t>& memory = {}) : saved_(hf_emu::configured_device_memory()) {
    hf_emu::configure_devices(count, memory);
  }
  ~EmulatedDevices() { hf_emu::configure_devices(static_cast<int>(saved_.size()), saved_); }
  EmulatedDevices(const EmulatedDevices&) = delete;
  EmulatedDevices& operator=(const EmulatedDevices&) = delete;

 private:
  std::vector<std::size_t> saved_;
};
#endif

TEST(DeviceChoice, AutoTakesEveryVisibleGpuOrTheCpu) {
  const DeviceChoice choice = choose_device(config_for(Device::Auto), 2);
  // An emulated GPU is for tests: auto never trains on it, only device = "cuda" does.
  if (visible_gpus() == 0 || HYPERFUSE_CUDA_EMULATED) {
    EXPECT_EQ(choice.device, Device::Cpu);
    EXPECT_EQ(choice.threads, 2);
  } else {
    EXPECT_EQ(choice.device, Device::Cuda);
    EXPECT_EQ(choice.threads, visible_gpus());  // one worker thread per device
    EXPECT_EQ(static_cast<int>(choice.gpus.size()), visible_gpus());
  }
}

TEST(DeviceChoice, CudaWithoutADeviceIsAnInputErrorNamingTheConfig) {
#if HYPERFUSE_CUDA_EMULATED
  const EmulatedDevices none(0);
#endif
  if (visible_gpus() > 0) GTEST_SKIP() << "a CUDA device is visible";
  try {
    choose_device(config_for(Device::Cuda), 2);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("configs/example.toml"), std::string::npos) << message;
    EXPECT_NE(message.find("device = \"cpu\""), std::string::npos) << message;
  }
}

TEST(DeviceChoice, GpuIdBeyondTheVisibleDevicesIsAnInputError) {
  HF_SKIP_UNLESS_GPU_VISIBLE("no CUDA device visible");
  EXPECT_THROW(choose_device(config_for(Device::Cuda, {visible_gpus()}), 2), InputError);
}

#if HYPERFUSE_CUDA_EMULATED
TEST(DeviceChoice, ADriverTooOldForThisBuildIsAnErrorNotTheCpu) {
  hf_emu::Faults faults;
  faults.driver_version = 12020;
  hf_emu::set_faults(faults);
  for (Device device : {Device::Auto, Device::Cuda}) {
    try {
      choose_device(config_for(device), 2);
      ADD_FAILURE() << "expected a DeviceError";
    } catch (const DeviceError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("supports CUDA up to 12.2"), std::string::npos) << message;
      EXPECT_NE(message.find("update the NVIDIA driver"), std::string::npos) << message;
      EXPECT_NE(message.find("--device cpu"), std::string::npos) << message;
    }
  }
  EXPECT_EQ(choose_device(config_for(Device::Cpu), 2).device, Device::Cpu);  // the CPU needs no driver
  hf_emu::set_faults(hf_emu::Faults{});
}

// With HYPERFUSE_REQUIRE_GPU=1 a GPU test that finds no device fails instead of skipping.
TEST(DeviceChoice, RequiringAGpuTurnsAMissingDeviceIntoAFailure) {
  const EmulatedDevices none(0);
  setenv("HYPERFUSE_REQUIRE_GPU", "1", 1);
  EXPECT_FATAL_FAILURE(HF_SKIP_UNLESS_GPU_VISIBLE("the op tests need a GPU"),
                       "HYPERFUSE_REQUIRE_GPU is set, but the op tests need a GPU");
  unsetenv("HYPERFUSE_REQUIRE_GPU");
}

TEST(DeviceChoice, CudaTakesEveryEmulatedGpuAndPlansPacksForTheSmallest) {
  const std::size_t mib = std::size_t{1} << 20;
  const EmulatedDevices three(3, {1024 * mib, 256 * mib, 512 * mib});
  const DeviceChoice choice = choose_device(config_for(Device::Cuda), 2);
  EXPECT_EQ(choice.device, Device::Cuda);
  EXPECT_EQ(choice.gpus, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(choice.threads, 3);
  EXPECT_EQ(choose_device(config_for(Device::Cuda, {2, 0}), 2).gpus, (std::vector<int>{2, 0}));
  EXPECT_EQ(gpus_for_local_rank(4), std::vector<int>{1});  // ranks take the node's GPUs in turn
  const ParameterLayout layout({30, 90, 64, 1});
  const std::vector<DeviceMemory> memory = gpu_memory(choice);
  const int packs = pack_size_rule(choice, memory, 1000, 1000)(layout, 32);
  const BackendEntry& gpu = *testing::gpu_backend_entry();
  // Half of device 1's memory, the smallest.
  EXPECT_EQ(packs, gpu_pack_size(128 * mib, [&](int n) {
              return gpu.workspace_bytes(pack_of(layout, 32, n), 256, memory[1].limits).total();
            }));
}
#endif

TEST(DeviceChoice, GpuPackSizeIsAPowerOfTwoThatFitsUpToTheCap) {
  const auto per_network = [](std::size_t bytes) {
    return [bytes](int networks) { return bytes * static_cast<std::size_t>(networks); };
  };
  EXPECT_EQ(gpu_pack_size(1000, per_network(100)), 8);  // 10 fit: the power of two below
  EXPECT_EQ(gpu_pack_size(1024, per_network(128)), 8);  // exactly 8 fit
  EXPECT_EQ(gpu_pack_size(50, per_network(100)), 1);    // not even one: one, and the runner splits no further
  EXPECT_EQ(gpu_pack_size(std::size_t{1} << 40, per_network(1)), kMaxGpuPackSize);
  // A pack's own buffers (the batch) count once: 4 networks of 100 and 150 shared do not fit 500.
  EXPECT_EQ(gpu_pack_size(500, [](int networks) { return 150 + 100 * static_cast<std::size_t>(networks); }), 2);
}

}  // namespace
}  // namespace hf
