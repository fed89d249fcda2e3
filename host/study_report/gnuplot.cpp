#include "host/study_report/gnuplot.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hf {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  if (!out) throw std::runtime_error(path.string() + ": cannot write a plot's input");
}

// A temporary folder, removed with everything in it when this goes out of scope.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hyperfuse-plot-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a temporary folder for plots");
    path_ = pattern;
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `gnuplot script` in `folder` with its output in `log`; returns the exit status, or 127
// when gnuplot could not be started.
int run_gnuplot(const std::filesystem::path& folder, const std::string& script, const std::filesystem::path& log) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot start gnuplot: fork failed");
  if (pid == 0) {
    if (::chdir(folder.c_str()) != 0) ::_exit(126);
    if (std::FILE* out = std::fopen(log.c_str(), "w")) {
      ::dup2(::fileno(out), STDOUT_FILENO);
      ::dup2(::fileno(out), STDERR_FILENO);
    }
    ::execlp("gnuplot", "gnuplot", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string gnuplot_quoted(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string render_svg(const GnuplotFigure& figure) {
  const TemporaryFolder folder;
  for (const auto& [name, contents] : figure.data_files) write_file(folder.path() / name, contents);
  const std::string header = "set terminal svg size " + std::to_string(figure.width) + "," +
                             std::to_string(figure.height) +
                             " noenhanced font \"DejaVu Sans,11\" background rgb \"white\"\n"
                             "set output \"figure.svg\"\n"
                             "set encoding utf8\n";
  write_file(folder.path() / "figure.gp", header + figure.script + "\nset output\n");
  const int status = run_gnuplot(folder.path(), "figure.gp", folder.path() / "gnuplot.log");
  if (status == 127) {
    throw std::runtime_error(
        "cannot run gnuplot, which draws the report's plots; install it (apt-get install gnuplot-nox) and run the "
        "report again");
  }
  const std::string svg = read_file(folder.path() / "figure.svg");
  if (status != 0 || svg.find("</svg>") == std::string::npos) {
    throw std::runtime_error("gnuplot failed to draw a plot (exit status " + std::to_string(status) +
                             "): " + read_file(folder.path() / "gnuplot.log"));
  }
  return svg;
}

}  // namespace hf
