// A host allocation that fails during training although the plan said the search fits (other
// processes took the memory; here a data-size limit, RLIMIT_DATA, on this test process) ends
// the search with a message naming what was being allocated and how much, never a bare
// std::bad_alloc; the journal keeps the trainings finished before, and running the same search
// again resumes them into the results of a run that never failed.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <regex>
#include <string>

#include "host/run/run_search.hpp"
#include "kernels/backend/out_of_host_memory.hpp"
#include "tests/address_sanitizer.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::read_csv;
using testing::read_text;
using testing::without_timing;

// VmData of /proc/self/status: the private writable memory RLIMIT_DATA counts.
std::size_t data_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmData:", 0) == 0) return std::stoull(line.substr(7)) * 1024;
  return 0;
}

// Lowers RLIMIT_DATA for its lifetime.
class DataLimit {
 public:
  explicit DataLimit(std::size_t bytes) {
    getrlimit(RLIMIT_DATA, &saved_);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    applied_ = setrlimit(RLIMIT_DATA, &limit) == 0;
  }
  ~DataLimit() { setrlimit(RLIMIT_DATA, &saved_); }
  bool applied() const { return applied_; }

 private:
  rlimit saved_{};
  bool applied_ = false;
};

// 20,000 training rows; batch 32 trains in small workspaces (256 rows), batch 20000 needs 20,000
// rows of a 300-unit layer (92 MiB). Packs of equal work keep the plan's order, so on one thread
// the two batch-32 trainings come first.
fs::path write_search(const fs::path& dir) {
  testing::write_synthetic_data(dir, 20000, 2000);
  testing::write_text(dir / "search.toml", R"([data]
train = "train.csv"
test = "test.csv"
[search]
rerun_count = 1
seed = 9
[execution]
device = "cpu"
cpu_count = 1
[output]
dir = "out"
[hyperparameters]
batch_size = [32, 20000]
hidden_layers = [[10]]
max_epochs = [1]
learning_rate = [0.01, 0.001]
)");
  return dir / "search.toml";
}

TEST(OutOfMemory, AFailedAllocationNamesWhatAndHowMuchAndTheRerunResumes) {
  if (testing::kUnderAddressSanitizer) GTEST_SKIP() << "AddressSanitizer stops at a failed allocation";
  const fs::path dir = testing::scratch_dir("search");
  const fs::path config_path = write_search(dir);
  const SearchConfig config = load_search_config(config_path);

  std::string message;
  {
    // Room for loading the data, the journal's and the worker's threads, the GEMM kernels and
    // the small workspaces, not for the large one's three 23 MiB layer buffers.
    const DataLimit limit(data_bytes() + (std::size_t{72} << 20));
    if (!limit.applied()) GTEST_SKIP() << "cannot lower RLIMIT_DATA here";
    try {
      run_search(config, SearchOptions{}, nullptr, nullptr);
      ADD_FAILURE() << "expected the large workspace's allocation to fail";
    } catch (const OutOfHostMemory& e) {
      message = e.what();
    }
  }
  EXPECT_NE(message.find("cannot allocate "), std::string::npos) << message;
  EXPECT_NE(message.find(" MiB of host memory for the "), std::string::npos) << message;
  // The whole workspace's figure is cpu_workspace_bytes' (workspace_bytes_test holds it to what a
  // workspace allocates).
  EXPECT_TRUE(std::regex_search(
      message, std::regex("of a CPU workspace \\(1 network of widths 30-300-1, 20000 rows\\), which needs [0-9.]+ MiB in "
                          "all, [0-9.]+ MiB of it already allocated")))
      << message;
  EXPECT_NE(message.find("[while training pack 3 of 4 (1 networks of widths 30-300-1, batch size 20000)]"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("bad_alloc"), std::string::npos) << message;

  // The two trainings that finished are committed, once each, in a consistent journal.
  const testing::JournalRows rows = testing::journal_rows(dir / "out" / "study.sqlite");
  EXPECT_TRUE(rows.consistent);
  EXPECT_EQ(rows.rows, 2);
  EXPECT_EQ(rows.distinct_trainings, 2);

  // Run again (no limit now): it resumes, and its results are those of a run that never failed.
  const pid_t resumed =
      testing::start_process({testing::hyperfuse_binary().string(), "run", config_path.string()}, dir / "resume.log");
  ASSERT_EQ(testing::wait_for(resumed), 0) << read_text(dir / "resume.log");
  EXPECT_NE(read_text(dir / "resume.log").find("2 of 4 trainings already done"), std::string::npos)
      << read_text(dir / "resume.log");
  const pid_t reference = testing::start_process({testing::hyperfuse_binary().string(), "run", config_path.string(),
                                                  "-q", "--output-dir", (dir / "reference").string()},
                                                 dir / "reference.log");
  ASSERT_EQ(testing::wait_for(reference), 0) << read_text(dir / "reference.log");
  const auto expected = without_timing(read_csv(dir / "reference" / "hyperparameter_results.csv"));
  ASSERT_EQ(expected.size(), 5u);
  EXPECT_EQ(without_timing(read_csv(dir / "out" / "hyperparameter_results.csv")), expected);
}

}  // namespace
}  // namespace hf
