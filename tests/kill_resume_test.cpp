// The hyperfuse binary killed at random moments (SIGKILL, Ctrl-C, SIGTERM, a double Ctrl-C)
// and run again until it finishes: every training is committed exactly once and the final
// results equal those of a run that was never interrupted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <chrono>
#include <random>
#include <thread>

#include "tests/result_files.hpp"
#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;
using testing::read_csv;
using testing::read_text;
using testing::without_timing;

constexpr int kTrainings = 48;  // 16 combinations x 3 reruns

// A search of about two seconds on 2 cores over the committed example data, results in dir/out.
fs::path write_config(const fs::path& dir) {
  const fs::path data = testing::source_dir() / "example_data";
  testing::write_text(dir / "search.toml", "[data]\ntrain = \"" + (data / "train.csv").string() + "\"\ntest = \"" +
                                               (data / "test.csv").string() + R"("
[search]
rerun_count = 3
seed = 11
[execution]
device = "cpu"
cpu_count = 2
[output]
dir = "out"
[hyperparameters]
learning_rate = [0.001, 0.004]
optimizer = ["Adam", "RMSprop"]
activation_function = ["ReLU", "Tanh"]
dropout = [0.0, 0.2]
max_epochs = [8]
hidden_layers = [[2, 1]]
)");
  return dir / "search.toml";
}

// Starts `hyperfuse run CONFIG -q` with its output in dir/log.
pid_t start_search(const fs::path& config, const fs::path& dir) {
  const std::string binary = testing::hyperfuse_binary().string(), path = config.string(), log = (dir / "log").string();
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execl(binary.c_str(), binary.c_str(), "run", path.c_str(), "-q", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// The exit status, or 128 + the signal that killed it.
int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_to_end(const fs::path& config, const fs::path& dir) { return wait_for(start_search(config, dir)); }

std::int64_t committed_trainings(const fs::path& journal, bool* consistent) {
  sqlite3* db = nullptr;
  std::int64_t rows = -1, distinct = -2;
  if (sqlite3_open_v2(journal.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*), count(DISTINCT combination || '/' || rerun) FROM trainings", -1,
                           &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      rows = sqlite3_column_int64(statement, 0);
      distinct = sqlite3_column_int64(statement, 1);
    }
    sqlite3_finalize(statement);
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      *consistent = std::string(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0))) == "ok";
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return rows == distinct ? rows : -1;
}

class KillAndResume : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = testing::scratch_dir("reference");
    ASSERT_EQ(run_to_end(write_config(reference_), reference_), 0) << read_text(reference_ / "log");
    expected_ = without_timing(read_csv(reference_ / "out" / "hyperparameter_results.csv"));
    ASSERT_EQ(expected_.size(), 17u) << read_text(reference_ / "log");
    work_ = testing::scratch_dir("interrupted");
    config_ = write_config(work_);
  }

  // Interrupts a run `times` times at random moments with `send`, checking each time that the
  // journal is consistent and never loses a committed training; then lets it finish.
  void interrupt_and_resume(int times, const std::function<int(pid_t)>& send, std::uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> delay_ms(100, 1200);
    std::int64_t committed = 0;
    int hits = 0;
    for (int i = 0; i < times; ++i) {
      const pid_t pid = start_search(config_, work_);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
      const int expected_status = send(pid);
      const int status = wait_for(pid);
      if (status != 0) {  // 0: it finished before the signal came
        EXPECT_EQ(status, expected_status) << read_text(work_ / "log");
        ++hits;
      }
      bool consistent = false;
      const std::int64_t now = committed_trainings(work_ / "out" / "study.sqlite", &consistent);
      EXPECT_TRUE(consistent) << "interruption " << i;
      EXPECT_GE(now, committed) << "interruption " << i << ": a committed training was lost";
      EXPECT_LE(now, kTrainings);
      committed = now;
    }
    EXPECT_GE(hits, 1) << "no interruption came before the search finished";
    ASSERT_EQ(run_to_end(config_, work_), 0) << read_text(work_ / "log");
    bool consistent = false;
    EXPECT_EQ(committed_trainings(work_ / "out" / "study.sqlite", &consistent), kTrainings)
        << "every training committed exactly once";
    EXPECT_TRUE(consistent);
    EXPECT_EQ(without_timing(read_csv(work_ / "out" / "hyperparameter_results.csv")), expected_);
    EXPECT_EQ(read_text(work_ / "out" / "errors.csv"), read_text(reference_ / "out" / "errors.csv"));
  }

  fs::path reference_, work_, config_;
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
}

}  // namespace
}  // namespace hf
