#include "host/cli/seed_conversion.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "host/common/errors.hpp"

extern char** environ;

#ifndef HYPERFUSE_PYTHON_SOURCE_DIR
#define HYPERFUSE_PYTHON_SOURCE_DIR ""
#endif

namespace hf {
namespace {

// The folder holding the `hyperfuse` package: HYPERFUSE_PYTHON_PATH when set; the package this
// binary was installed in by pip (site-packages/hyperfuse/bin/hyperfuse); else the clone's
// python/ that this binary was built from.
std::filesystem::path package_parent() {
  if (const char* set = std::getenv("HYPERFUSE_PYTHON_PATH"); set && *set) return set;
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    const std::filesystem::path installed = self.parent_path().parent_path().parent_path();
    if (std::filesystem::exists(installed / "hyperfuse" / "convert.py", error)) return installed;
  }
  const std::filesystem::path source = HYPERFUSE_PYTHON_SOURCE_DIR;
  if (!source.empty() && std::filesystem::exists(source / "hyperfuse" / "convert.py", error)) return source;
  throw InputError(
      "hyperfuse convert: cannot find the Python package's converter (hyperfuse/convert.py); set "
      "HYPERFUSE_PYTHON_PATH to the clone's python/ folder or pip install the package (docs/PYTHON.md)");
}

}  // namespace

int convert_seed_config(const ConvertArguments& args) {
  const std::filesystem::path parent = package_parent();
  const char* existing = std::getenv("PYTHONPATH");
  const std::string python_path = parent.string() + (existing && *existing ? ":" + std::string(existing) : "");
  ::setenv("PYTHONPATH", python_path.c_str(), 1);
  const char* interpreter_set = std::getenv("HYPERFUSE_PYTHON");
  const std::string interpreter = interpreter_set && *interpreter_set ? interpreter_set : "python3";

  std::vector<std::string> words = {interpreter, "-m", "hyperfuse.convert", args.config.string()};
  const auto add = [&](const char* option, const std::optional<std::filesystem::path>& value) {
    if (value) {
      words.emplace_back(option);
      words.push_back(value->string());
    }
  };
  add("--out", args.out);
  add("--train", args.train);
  add("--test", args.test);
  add("--output-dir", args.output_dir);
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  pid_t child = 0;
  const int spawned = ::posix_spawnp(&child, interpreter.c_str(), nullptr, nullptr, argv.data(), environ);
  if (spawned != 0) {
    throw InputError("hyperfuse convert: cannot run " + interpreter + " (" + std::strerror(spawned) +
                     "); install Python 3 (apt-get install python3) or set HYPERFUSE_PYTHON to its path");
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waiting for " + interpreter);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 1;  // killed by a signal
}

}  // namespace hf
