// The hyperfuse binary run as a user runs it, for tests of whole commands: exit status, stdout
// and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "tests/result_files.hpp"
#include "tests/test_paths.hpp"

namespace hf::testing {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "exit " << o.exit_code << "\n--- stdout:\n" << o.out << "--- stderr:\n" << o.err;
}

// Runs hyperfuse in `work` with `args`, stdin closed, and `environment` ("NAME=value ...", already
// shell-quoted) added to the environment; stdout and stderr go through files in `captured`.
inline Outcome run_hyperfuse(const std::filesystem::path& work, const std::filesystem::path& captured,
                             const std::vector<std::string>& args, const std::string& environment = "") {
  std::string command = "cd " + shell_quoted(work.string()) + " && " +
                        (environment.empty() ? "" : "env " + environment + " ") +
                        shell_quoted(hyperfuse_binary().string());
  for (const std::string& a : args) command += " " + shell_quoted(a);
  command += " </dev/null >" + shell_quoted((captured / "stdout").string()) + " 2>" +
             shell_quoted((captured / "stderr").string());
  const int status = std::system(command.c_str());
  Outcome o;
  o.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = read_text(captured / "stdout");
  o.err = read_text(captured / "stderr");
  return o;
}

}  // namespace hf::testing
