// The hyperfuse binary killed at random moments (SIGKILL, Ctrl-C, SIGTERM, a double Ctrl-C)
// and run again until it finishes: every training is committed exactly once and the final
// results equal those of a run that was never interrupted.
#include <gtest/gtest.h>
#include <signal.h>

#include <fcntl.h>
#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "tests/kept_networks.hpp"
#include "tests/result_files.hpp"
#include "tests/search_fixtures.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::journal_rows;
using testing::read_csv;
using testing::read_text;
using testing::start_search;
using testing::wait_for;
using testing::without_timing;

constexpr int kTrainings = 48;  // 16 combinations x 3 reruns

// A search of about two seconds on 2 cores over the committed example data, results in dir/out.
fs::path write_config(const fs::path& dir) {
  return testing::write_example_data_config(dir, R"([search]
rerun_count = 3
seed = 11
[hyperparameters]
learning_rate = [0.001, 0.004]
optimizer = ["Adam", "RMSprop"]
activation_function = ["ReLU", "Tanh"]
dropout = [0.0, 0.2]
max_epochs = [8]
hidden_layers = [[2, 1]]
)");
}

int run_to_end(const fs::path& config, const fs::path& dir) { return wait_for(start_search(config, dir)); }

class KillAndResume : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = testing::scratch_dir("reference");
    const auto started = std::chrono::steady_clock::now();
    ASSERT_EQ(run_to_end(write_config(reference_), reference_), 0) << read_text(reference_ / "log");
    reference_ms_ = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
    expected_ = without_timing(read_csv(reference_ / "out" / "hyperparameter_results.csv"));
    ASSERT_EQ(expected_.size(), 17u) << read_text(reference_ / "log");
    work_ = testing::scratch_dir("interrupted");
    config_ = write_config(work_);
  }

  // Interrupts a run `times` times at random moments with `send`, checking each time that the
  // journal is consistent and never loses a committed training; then lets it finish.
  void interrupt_and_resume(int times, const std::function<int(pid_t)>& send, std::uint32_t seed) {
    std::mt19937 random(seed);
    // Moments within the first 80% of an uninterrupted run's time (start-up included). The
    // first interruption waits for the run's first commit, then a little, so it lands
    // mid-search however the machine's load changes between the reference run and this one.
    std::uniform_int_distribution<int> delay_ms(std::max(10, reference_ms_ / 10), std::max(20, reference_ms_ * 8 / 10));
    std::uniform_int_distribution<int> after_commit_ms(0, std::max(1, reference_ms_ / 10));
    std::int64_t committed = 0;
    int hits = 0;
    for (int i = 0; i < times; ++i) {
      const pid_t pid = start_search(config_, work_);
      if (i == 0) {
        for (int poll = 0; poll < 1000 && journal_rows(work_ / "out" / "study.sqlite").rows <= committed; ++poll) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(after_commit_ms(random)));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
      }
      const int expected_status = send(pid);
      const int status = wait_for(pid);
      if (status != 0) {  // 0: it finished before the signal came
        EXPECT_EQ(status, expected_status) << read_text(work_ / "log");
        ++hits;
      }
      const testing::JournalRows journal = journal_rows(work_ / "out" / "study.sqlite");
      EXPECT_TRUE(journal.consistent) << "interruption " << i;
      EXPECT_EQ(journal.rows, journal.distinct_trainings) << "interruption " << i << ": a training committed twice";
      const std::int64_t now = journal.rows;
      EXPECT_GE(now, committed) << "interruption " << i << ": a committed training was lost";
      EXPECT_LE(now, kTrainings);
      committed = now;
    }
    EXPECT_GE(hits, 1) << "no interruption came before the search finished";
    ASSERT_EQ(run_to_end(config_, work_), 0) << read_text(work_ / "log");
    const testing::JournalRows journal = journal_rows(work_ / "out" / "study.sqlite");
    EXPECT_EQ(journal.rows, kTrainings) << "every training committed exactly once";
    EXPECT_EQ(journal.distinct_trainings, kTrainings);
    EXPECT_TRUE(journal.consistent);
    EXPECT_EQ(without_timing(read_csv(work_ / "out" / "hyperparameter_results.csv")), expected_);
    EXPECT_EQ(read_text(work_ / "out" / "errors.csv"), read_text(reference_ / "out" / "errors.csv"));
    testing::expect_the_same_kept_networks(work_ / "out", reference_ / "out");
  }

  fs::path reference_, work_, config_;
  int reference_ms_ = 0;
  std::vector<std::vector<std::string>> expected_;
};

TEST_F(KillAndResume, SigkillAtRandomMoments) {
  interrupt_and_resume(
      4,
      [](pid_t pid) {
        kill(pid, SIGKILL);
        return 128 + SIGKILL;
      },
      1);
}

TEST_F(KillAndResume, CtrlCStopsWith130AndWritesPartialResults) {
  interrupt_and_resume(
      3,
      [](pid_t pid) {
        kill(pid, SIGINT);
        return 130;
      },
      2);
  EXPECT_NE(read_text(work_ / "log").find("partial: "), std::string::npos) << read_text(work_ / "log");
}

TEST_F(KillAndResume, SigtermStopsWith143) {
  interrupt_and_resume(
      2,
      [](pid_t pid) {
        kill(pid, SIGTERM);
        return 143;
      },
      3);
}

TEST_F(KillAndResume, ASecondCtrlCExitsAtOnce) {
  interrupt_and_resume(
      2,
      [](pid_t pid) {
        kill(pid, SIGINT);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        kill(pid, SIGINT);
        return 130;
      },
      4);
  // The second Ctrl-C took the quick way out (both ways exit 130): it did not wait for the
  // trainings in flight as the first one asked.
  EXPECT_NE(read_text(work_ / "log").find("hyperfuse: interrupted again, exiting now"), std::string::npos)
      << read_text(work_ / "log");
}

}  // namespace
}  // namespace hf
