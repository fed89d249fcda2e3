// The memory plan of a prepared search: each pack's estimate is the backend's workspace_bytes,
// the peak grows with the threads that hold the largest packs, a combination that cannot fit is
// refused with its values and figures, and a search that fits with fewer threads gets fewer.
#include <gtest/gtest.h>

#include <algorithm>

#include "host/common/errors.hpp"
#include "host/run/memory_plan.hpp"
#include "kernels/backend/byte_size.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;

// A search over 300 training and 100 test rows in a fresh folder, on `threads` CPU threads.
PreparedSearch prepared(const std::string& hyperparameters, int threads, SearchConfig& config) {
  const fs::path dir = testing::scratch_dir("search");
  testing::write_synthetic_data(dir, 300, 100);
  testing::write_text(dir / "search.toml",
                      "[data]\ntrain = \"train.csv\"\ntest = \"test.csv\"\n[search]\n"
                      "rerun_count = 2\n[execution]\ndevice = \"cpu\"\ncpu_count = " +
                          std::to_string(threads) +
                          "\n[output]\ndir = \"out\"\n"
                          "[hyperparameters]\n" +
                          hyperparameters);
  config = load_search_config(dir / "search.toml");
  return prepare_search(config);
}

const char* kSmallSearch = "hidden_layers = [[1], [4, 2], [0.5]]\nbatch_size = [16, 300]\ndropout = [0.0, 0.3]\n";

TEST(MemoryPlan, EachPackIsItsBackendsWorkspaceBytesAndTheTrainersBuffers) {
  SearchConfig config;
  const PreparedSearch search = prepared(kSmallSearch, 2, config);
  const MemoryEstimate estimate = estimate_memory(search);
  const BackendEntry* cpu = find_backend("cpu");
  ASSERT_NE(cpu, nullptr);
  ASSERT_EQ(estimate.packs.size(), search.plan.packs.size());
  EXPECT_FALSE(estimate.on_gpu);
  for (std::size_t p = 0; p < search.plan.packs.size(); ++p) {
    const PlannedPack& pack = search.plan.packs[p];
    const int rows = workspace_rows(pack.spec.batch_size, search.train.rows, search.test.rows);
    EXPECT_EQ(estimate.packs[p].workspace.total(), cpu->workspace_bytes(pack.spec, rows, DeviceLimits{}).total());
    EXPECT_EQ(estimate.packs[p].trainer_host,
              trainer_host_bytes(pack.spec, search.train.rows, search.train.features, pack.options.shuffle));
    EXPECT_EQ(estimate.packs[p].thread_host,
              kPerThreadOverheadBytes + estimate.packs[p].trainer_host + estimate.packs[p].workspace.total());
    EXPECT_EQ(estimate.packs[p].device, 0u);
  }
  // The program: what it held before loading the data, and the GEMM kernels it will compile.
  EXPECT_GE(estimate.fixed, search.program_bytes + kProgramGrowthBytes + estimate.library);
  EXPECT_GE(estimate.data, (search.train.x.size() + search.test.x.size()) * sizeof(float));
  EXPECT_GT(estimate.loading, search.data_file_bytes);
  EXPECT_GT(estimate.bookkeeping, search.plan.trainings.size() * sizeof(PlannedTraining));
}

TEST(MemoryPlan, ThePeakAddsTheLargestPacksOneThreadEach) {
  SearchConfig config;
  const PreparedSearch search = prepared(kSmallSearch, 2, config);
  const MemoryEstimate estimate = estimate_memory(search);
  std::vector<std::size_t> sizes;
  for (const PackMemory& m : estimate.packs) sizes.push_back(m.thread_host);
  std::sort(sizes.rbegin(), sizes.rend());
  const std::size_t base = estimate.fixed + estimate.data + estimate.bookkeeping;
  const std::size_t loading = estimate.fixed + estimate.data + estimate.loading;
  EXPECT_EQ(estimate.host_peak(1), std::max(loading, base + sizes[0]));
  EXPECT_EQ(estimate.host_peak(2), std::max(loading, base + sizes[0] + sizes[1]));
  // More threads than packs: the rest hold no pack.
  const int threads = static_cast<int>(sizes.size()) + 3;
  std::size_t all = 3 * kPerThreadOverheadBytes;
  for (std::size_t s : sizes) all += s;
  EXPECT_EQ(estimate.host_peak(threads), std::max(loading, base + all));
  EXPECT_EQ(estimate.host_peak_with(0), base + estimate.packs[0].thread_host);
}

TEST(MemoryPlan, ACombinationThatCannotFitIsRefusedWithItsValuesAndFigures) {
  SearchConfig config;
  const PreparedSearch search = prepared("hidden_layers = [[1000, 1000], [1]]\n", 2, config);
  const MemoryEstimate estimate = estimate_memory(search);
  const HostMemory eight{std::size_t{8} << 30, "eight gigabytes for the test"};
  try {
    fit_to_memory(config, search, estimate, eight);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    std::size_t largest = 0;
    for (std::size_t p = 0; p < estimate.packs.size(); ++p)
      if (estimate.packs[p].thread_host > estimate.packs[largest].thread_host) largest = p;
    for (const std::string& part :
         {config.source.string() + ": combination hidden_layers = [1000, 1000], learning_rate = 0.001",
          std::string("cannot fit in memory"), "needs an estimated " + byte_size(estimate.packs[largest].thread_host),
          byte_size(estimate.host_peak_with(largest)) + " in all",
          std::string("8.00 GiB are available (eight gigabytes for the test)"),
          std::string("use smaller hidden_layers or batch_size"), std::string("fewer threads (-j/--cpu-count)")}) {
      EXPECT_NE(message.find(part), std::string::npos) << "expected '" << part << "' in: " << message;
    }
    EXPECT_EQ(message.find("more combination"), std::string::npos) << message;  // its reruns are one combination
  }
}

TEST(MemoryPlan, ASearchThatFitsOnlyWithFewerThreadsGetsFewerAndSaysSo) {
  SearchConfig config;
  const PreparedSearch search = prepared("hidden_layers = [[30], [1]]\nbatch_size = [300]\n", 4, config);
  const MemoryEstimate estimate = estimate_memory(search);
  ASSERT_LT(estimate.host_peak(1), estimate.host_peak(2));
  const HostMemory between{(estimate.host_peak(1) + estimate.host_peak(2)) / 2, "test"};
  const MemoryFit one = fit_to_memory(config, search, estimate, between);
  EXPECT_EQ(one.threads, 1);
  EXPECT_NE(one.notice.find("training with 1 worker thread instead of 4"), std::string::npos) << one.notice;
  EXPECT_NE(one.notice.find("hidden_layers = [30]"), std::string::npos) << one.notice;  // the largest

  const MemoryFit three = fit_to_memory(config, search, estimate, HostMemory{estimate.host_peak(3), "test"});
  EXPECT_EQ(three.threads, 3);

  const MemoryFit all = fit_to_memory(config, search, estimate, HostMemory{estimate.host_peak(4), "test"});
  EXPECT_EQ(all.threads, 4);
  EXPECT_EQ(all.notice, "");
}

// GPU packs and the refusal of a network that does not fit a GPU, on a pretended device: the
// plan is arithmetic over the backend's workspace_bytes, so no GPU is needed.
TEST(MemoryPlan, OnAGpuPacksAreSizedByFreeMemoryAndATooLargeNetworkIsRefused) {
  const BackendEntry* cuda = find_backend("cuda");
  if (cuda == nullptr) GTEST_SKIP() << "this build has no CUDA backend";
  SearchConfig config;
  PreparedSearch search =
      prepared("hidden_layers = [[30], [1000, 1000]]\nlearning_rate = [0.1, 0.01, 0.001, 0.0001]\n", 1, config);
  search.device.device = Device::Cuda;
  search.device.gpus = {0};
  search.backend = "cuda";
  DeviceLimits limits;  // a 99 KiB card's (an RTX 4090's): the plans put more in global scratch
  limits.compute_major = 8;
  limits.compute_minor = 9;
  limits.shared_bytes_per_block = 99 * 1024;
  limits.multiprocessors = 128;
  limits.has_kernel_image = true;
  search.gpu_memory = {DeviceMemory{"pretend GPU", std::size_t{64} << 20, std::size_t{80} << 20, 128, limits, ""}};
  search.plan = plan_search(config.search, search.train.features, search.train.rows, search.test.rows,
                            pack_size_rule(search.device, search.gpu_memory, search.train.rows, search.test.rows));
  const MemoryEstimate estimate = estimate_memory(search);
  EXPECT_TRUE(estimate.on_gpu);
  for (std::size_t p = 0; p < estimate.packs.size(); ++p) {
    EXPECT_EQ(estimate.packs[p].device, estimate.packs[p].workspace.total());
    const PlannedPack& pack = search.plan.packs[p];
    EXPECT_EQ(estimate.packs[p].workspace.total(),
              cuda->workspace_bytes(pack.spec,
                                    workspace_rows(pack.spec.batch_size, search.train.rows, search.test.rows), limits)
                  .total());
    EXPECT_LE(estimate.packs[p].one_network_device, estimate.packs[p].device);
  }
  try {
    fit_to_memory(config, search, estimate, HostMemory{std::size_t{1} << 50, "test"});
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("combination hidden_layers = [1000, 1000]"), std::string::npos) << message;
    EXPECT_NE(message.find("cannot fit on the GPU"), std::string::npos) << message;
    EXPECT_NE(message.find("GPU 0 (pretend GPU) has 64.0 MiB free"), std::string::npos) << message;
    EXPECT_NE(message.find("--device cpu"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace hf
