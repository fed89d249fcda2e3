// Where a search trains: device and gpus resolved against this build and the visible devices,
// and the GPU pack size arithmetic.
#include <gtest/gtest.h>

#include <fstream>

#include "host/common/errors.hpp"
#include "host/run/device_choice.hpp"
#include "tests/gpu_available.hpp"

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

TEST(DeviceChoice, AutoTakesEveryVisibleGpuOrTheCpu) {
  const DeviceChoice choice = choose_device(config_for(Device::Auto), 2);
  if (visible_gpus() == 0) {
    EXPECT_EQ(choice.device, Device::Cpu);
    EXPECT_EQ(choice.threads, 2);
  } else {
    EXPECT_EQ(choice.device, Device::Cuda);
    EXPECT_EQ(choice.threads, visible_gpus());  // one worker thread per device
    EXPECT_EQ(static_cast<int>(choice.gpus.size()), visible_gpus());
  }
}

TEST(DeviceChoice, CudaWithoutADeviceIsAnInputErrorNamingTheConfig) {
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
  if (visible_gpus() == 0) GTEST_SKIP() << "no CUDA device visible";
  EXPECT_THROW(choose_device(config_for(Device::Cuda, {visible_gpus()}), 2), InputError);
}

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
