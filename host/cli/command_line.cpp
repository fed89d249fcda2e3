#include "host/cli/command_line.hpp"

#include <charconv>

#include "host/common/errors.hpp"
#include "host/common/suggest.hpp"

namespace hf {

const char* const kUsage = R"(hyperfuse: hyperparameter search for small feed-forward classifiers,
training thousands of networks at once.

Usage:
  hyperfuse run [CONFIG] [options]   run the search CONFIG describes (default configs/default.toml)
  hyperfuse make-data [options]      write synthetic D.AT-shaped train.csv and test.csv
  hyperfuse --help | --version

Options of run (each overrides the config):
  --device auto|cpu|cuda   where to train ([execution] device)
  -j, --cpu-count N        worker threads, 0 = every core ([execution] cpu_count)
  --output-dir DIR         folder for the result files ([output] dir)
  --seed N                 search seed ([search] seed)
  --reruns N               trainings per combination ([search] rerun_count)
  --fresh                  discard the output folder's study journal and start over
                           (without it, running the same search again resumes it)
  -q, --quiet              no progress line
  --dry-run                print the plan (combinations, trainings, packs, largest network,
                           estimated FLOP and peak memory) and exit; trains nothing and
                           leaves the output folder alone

Options of make-data:
  --out-dir DIR            where to write train.csv and test.csv (default example_data)
  --train-rows N           training rows (default 10000)
  --test-rows N            test rows (default 2500)
  --seed N                 generator seed (default 2024)

Exit status: 0 success, 2 bad usage, config or data (or a combination that
cannot fit in memory), 1 runtime failure,
130 / 143 stopped by Ctrl-C / SIGTERM (finished trainings are kept; run again to resume).
Every config key is documented in docs/CONFIG.md.
)";

namespace {

[[noreturn]] void usage_error(const std::string& message) {
  throw InputError("usage: " + message + " (see hyperfuse --help)");
}

long long parse_integer(const std::string& option, const std::string& text, long long lowest, long long highest) {
  long long value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size() || value < lowest || value > highest) {
    usage_error(option + " needs a whole number from " + std::to_string(lowest) + " to " + std::to_string(highest) +
                ", not '" + text + "'");
  }
  return value;
}

// Walks the arguments after the command, handing out option values.
class ArgumentCursor {
 public:
  ArgumentCursor(const std::vector<std::string>& args, std::size_t start) : args_(args), next_(start) {}
  bool done() const { return next_ >= args_.size(); }
  const std::string& take() { return args_[next_++]; }
  const std::string& value_of(const std::string& option) {
    if (done()) usage_error(option + " needs a value");
    return take();
  }

 private:
  const std::vector<std::string>& args_;
  std::size_t next_;
};

void unknown_option(const std::string& option, const std::vector<std::string>& known) {
  std::string message = "unknown option '" + option + "'";
  const std::string guess = closest_choice(option, known);
  if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
  usage_error(message);
}

RunArguments parse_run(const std::vector<std::string>& args) {
  RunArguments run;
  bool config_given = false;
  ArgumentCursor cursor(args, 1);
  while (!cursor.done()) {
    const std::string arg = cursor.take();
    if (arg == "--device") {
      const std::string d = cursor.value_of(arg);
      if (d == "auto")
        run.device = Device::Auto;
      else if (d == "cpu")
        run.device = Device::Cpu;
      else if (d == "cuda")
        run.device = Device::Cuda;
      else
        usage_error("--device must be auto, cpu or cuda, not '" + d + "'");
    } else if (arg == "-j" || arg == "--cpu-count") {
      run.cpu_count = static_cast<int>(parse_integer(arg, cursor.value_of(arg), 0, 4096));
    } else if (arg == "--output-dir") {
      run.output_dir = cursor.value_of(arg);
    } else if (arg == "--seed") {
      run.seed = static_cast<std::uint64_t>(parse_integer(arg, cursor.value_of(arg), 0, INT64_MAX));
    } else if (arg == "--reruns") {
      run.reruns = static_cast<int>(parse_integer(arg, cursor.value_of(arg), 1, kMaxRerunCount));
    } else if (arg == "--fresh") {
      run.fresh = true;
    } else if (arg == "-q" || arg == "--quiet") {
      run.quiet = true;
    } else if (arg == "--dry-run") {
      run.dry_run = true;
    } else if (!arg.empty() && arg[0] == '-') {
      unknown_option(
          arg, {"--device", "--cpu-count", "--output-dir", "--seed", "--reruns", "--fresh", "--quiet", "--dry-run"});
    } else if (config_given) {
      usage_error("run takes one config file, but got '" + run.config.string() + "' and '" + arg + "'");
    } else {
      run.config = arg;
      config_given = true;
    }
  }
  return run;
}

MakeDataArguments parse_make_data(const std::vector<std::string>& args) {
  MakeDataArguments m;
  ArgumentCursor cursor(args, 1);
  while (!cursor.done()) {
    const std::string arg = cursor.take();
    if (arg == "--out-dir")
      m.out_dir = cursor.value_of(arg);
    else if (arg == "--train-rows")
      m.train_rows = static_cast<int>(parse_integer(arg, cursor.value_of(arg), 1, 100000000));
    else if (arg == "--test-rows")
      m.test_rows = static_cast<int>(parse_integer(arg, cursor.value_of(arg), 1, 100000000));
    else if (arg == "--seed")
      m.seed = static_cast<std::uint64_t>(parse_integer(arg, cursor.value_of(arg), 0, INT64_MAX));
    else
      unknown_option(arg, {"--out-dir", "--train-rows", "--test-rows", "--seed"});
  }
  return m;
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine line;
  if (args.empty() || args[0] == "help") return line;
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") return line;  // help wins wherever it appears
  }
  if (args[0] == "--version") {
    line.command = Command::Version;
  } else if (args[0] == "run") {
    line.command = Command::Run;
    line.run = parse_run(args);
  } else if (args[0] == "make-data") {
    line.command = Command::MakeData;
    line.make_data = parse_make_data(args);
  } else {
    std::string message = "unknown command '" + args[0] + "'";
    const std::string guess = closest_choice(args[0], {"run", "make-data"});
    if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
    usage_error(message + "; the commands are run and make-data");
  }
  return line;
}

void apply_overrides(const RunArguments& args, SearchConfig& config) {
  if (args.device) config.device = *args.device;
  if (args.cpu_count) config.cpu_count = *args.cpu_count;
  if (args.output_dir) config.output_dir = *args.output_dir;
  if (args.seed) config.search.seed = *args.seed;
  if (args.reruns) config.search.rerun_count = *args.reruns;
}

}  // namespace hf
