// Inputs for tests that run whole searches: synthetic data files, a config over the committed
// example data, the hyperfuse binary run as a child process, and the journal's row counts.
#pragma once

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "host/data/synthetic_data.hpp"
#include "tests/test_paths.hpp"

namespace hf::testing {

// dir/train.csv and dir/test.csv from the synthetic generator.
inline void write_synthetic_data(const std::filesystem::path& dir, int train_rows, int test_rows) {
  SyntheticDataOptions options;
  options.train_rows = train_rows;
  options.test_rows = test_rows;
  const SyntheticData generated = make_synthetic_data(options);
  write_text(dir / "train.csv", generated.train_csv);
  write_text(dir / "test.csv", generated.test_csv);
}

// dir/search.toml over the committed example data (10,000 training rows), on 2 CPU threads,
// results in dir/out; `rest` is the [search] and [hyperparameters] part.
inline std::filesystem::path write_example_data_config(const std::filesystem::path& dir, const std::string& rest) {
  const std::filesystem::path data = source_dir() / "example_data";
  write_text(dir / "search.toml",
             "[data]\ntrain = \"" + (data / "train.csv").string() + "\"\ntest = \"" + (data / "test.csv").string() +
                 "\"\n[execution]\ndevice = \"cpu\"\ncpu_count = 2\n[output]\ndir = \"out\"\n" + rest);
  return dir / "search.toml";
}

// Starts `args` (args[0] looked up on PATH) with stdout and stderr appended to `log`.
inline pid_t start_process(const std::vector<std::string>& args, const std::filesystem::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (std::FILE* out = std::fopen(log.c_str(), "a")) {
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Starts `hyperfuse run CONFIG -q` with its output in dir/log.
inline pid_t start_search(const std::filesystem::path& config, const std::filesystem::path& dir) {
  return start_process({hyperfuse_binary().string(), "run", config.string(), "-q"}, dir / "log");
}

// The exit status, or 128 + the signal that killed it.
inline int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct JournalRows {
  std::int64_t rows = -1;
  std::int64_t distinct_trainings = -1;  // distinct (combination, rerun)
  bool consistent = false;               // PRAGMA integrity_check said ok
};

// The first column of `sql`'s first row (SELECT count(*) ...) on the journal, -1 when it cannot
// be read; read while a search may be writing: WAL lets readers in.
inline std::int64_t journal_count(const std::filesystem::path& journal, const char* sql) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2(journal.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK && sqlite3_step(statement) == SQLITE_ROW)
      n = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return n;
}

// Read while a search may be writing: WAL lets readers in.
inline JournalRows journal_rows(const std::filesystem::path& journal) {
  JournalRows counts;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(journal.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*), count(DISTINCT combination || '/' || rerun) FROM trainings", -1,
                           &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      counts.rows = sqlite3_column_int64(statement, 0);
      counts.distinct_trainings = sqlite3_column_int64(statement, 1);
    }
    sqlite3_finalize(statement);
    statement = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(statement, 0);
      counts.consistent = text && std::string(reinterpret_cast<const char*>(text)) == "ok";
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return counts;
}

}  // namespace hf::testing
