#include "host/cli/command_line.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <functional>
#include <memory>

#include "host/common/errors.hpp"
#include "host/common/suggest.hpp"

namespace hf {
namespace {

const char* const kIntroduction = R"(hyperfuse: hyperparameter search for small feed-forward classifiers,
training thousands of networks at once.

Usage:
  hyperfuse run [CONFIG] [options]       run the search CONFIG describes (default configs/default.toml)
  hyperfuse predict [options] DATA.csv   the buy list: a kept model's probability for each row
  hyperfuse export --onnx FILE [options] a kept model (its reruns' ensemble) as an ONNX file
  hyperfuse report [options]             one HTML page of plots of a finished search
  hyperfuse make-data [options]          write synthetic D.AT-shaped train.csv and test.csv
  hyperfuse convert CONFIG.py [options]  the seed script's config.py as a TOML config
  hyperfuse devices [CONFIG]             every GPU, whether this build can use it, and CONFIG's plan there
  hyperfuse benchmark [CONFIG] [options] the same short search on the CPU and each GPU: speeds
  hyperfuse help [COMMAND]               this text, or one command's options
  hyperfuse --help | --version

Options take their value as `-j 4` or `-j4`, `--seed 4` or `--seed=4`.
)";

const char* const kExitStatus = R"(
Exit status: 0 success, 2 bad usage, config or data (or a combination that
cannot fit in memory), 1 runtime failure,
130 / 143 stopped by Ctrl-C / SIGTERM (finished trainings are kept; run again to resume).
Every config key is documented in docs/CONFIG.md.
)";

// `command` empty: the message points at the whole help, else at the command's.
[[noreturn]] void usage_error(const std::string& message, const std::string& command) {
  throw InputError("usage: " + message + " (see hyperfuse " + (command.empty() ? "--help" : "help " + command) + ")");
}

long long parse_integer(const std::string& option, const std::string& text, long long lowest, long long highest,
                        const std::string& command) {
  long long value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size() || value < lowest || value > highest) {
    usage_error(option + " needs a whole number from " + std::to_string(lowest) + " to " + std::to_string(highest) +
                    ", not '" + text + "'",
                command);
  }
  return value;
}

// The name of `option` as the user last typed it (`-j` or `--cpu-count`), for messages.
std::string typed_name(const CLI::Option& option, const std::vector<std::string>& args) {
  std::string typed = option.get_name();
  for (const std::string& arg : args) {
    for (const std::string& name : option.get_lnames()) {
      if (arg == "--" + name || arg.rfind("--" + name + "=", 0) == 0) typed = "--" + name;
    }
    for (const std::string& name : option.get_snames()) {
      if (arg.rfind("-" + name, 0) == 0 && arg.rfind("--", 0) != 0) typed = "-" + name;
    }
  }
  return typed;
}

// Every spelling of every option of `command`, for "did you mean".
std::vector<std::string> option_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

bool looks_like_option(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-') return false;
  return !(arg[1] >= '0' && arg[1] <= '9');  // "-1" is a (bad) value, not an option
}

// The CLI11 app: one subcommand per command, its options bound to a CommandLine. Values are
// read as text and checked once CLI11 has read every argument, so a message can name the
// option as it was typed and say what to write instead.
class Parser {
 public:
  Parser(CommandLine& line, const std::vector<std::string>& args) : line_(line), args_(args) {
    app_.name("hyperfuse");
    app_.require_subcommand(0, 1);
    app_.add_flag("--version", version_, "print the version, the backends this build has and its MPI library");
    app_.get_formatter()->column_width(30);
    add_run();
    add_predict();
    add_export();
    add_report();
    add_make_data();
    add_convert();
    add_devices();
    add_benchmark();
    help_ = app_.add_subcommand("help", "this text, or one command's options");
    help_->add_option("COMMAND", help_topic_,
                      "a command: run, predict, export, report, make-data, convert, devices or benchmark");
  }

  void parse() {
    try {
      app_.parse(std::vector<std::string>(args_.rbegin(), args_.rend()));  // CLI11 takes them reversed
    } catch (const CLI::CallForHelp&) {
      show_help(active() ? active()->get_name() : "");
      return;
    } catch (const CLI::ExtrasError&) {
      unexpected_arguments();
    } catch (const CLI::ArgumentMismatch& e) {
      missing_value(e.what());
    } catch (const CLI::ParseError& e) {
      usage_error(e.what(), active() ? active()->get_name() : "");
    }
    if (version_) {
      line_.command = Command::Version;
      return;
    }
    CLI::App* command = active();
    if (command == nullptr) return show_help("");
    if (command == help_) {
      if (!help_topic_.empty() && command_named(help_topic_) == nullptr) unknown_command(help_topic_);
      return show_help(help_topic_);
    }
    for (const std::unique_ptr<Value>& value : values_) {
      if (value->option->count() > 0) value->set(typed_name(*value->option, args_), value->text);
    }
    finish(command->get_name());
  }

 private:
  // An option or positional read as text; `set` checks it and stores it in line_.
  struct Value {
    std::string text;
    CLI::App* command = nullptr;
    CLI::Option* option = nullptr;
    std::function<void(const std::string& typed, const std::string& text)> set;
  };

  CLI::App* command(const std::string& name, const std::string& description) {
    CLI::App* c = app_.add_subcommand(name, description);
    commands_.push_back(c);
    return c;
  }

  CLI::Option* text(CLI::App* command, const std::string& names, const std::string& placeholder,
                    const std::string& help, std::function<void(const std::string& typed, const std::string&)> set) {
    values_.push_back(std::make_unique<Value>());
    Value& value = *values_.back();
    value.command = command;
    value.option = command->add_option(names, value.text, help);
    value.option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    // A positional is named by itself (CONFIG, DATA.csv); an option by its placeholder (N, DIR).
    if (value.option->get_positional()) {
      value.option->type_name("");
    } else {
      value.option->option_text(placeholder);
    }
    value.set = std::move(set);
    return value.option;
  }

  void path(CLI::App* command, const std::string& names, const std::string& placeholder, const std::string& help,
            std::function<void(const std::filesystem::path&)> set) {
    text(command, names, placeholder, help,
         [set = std::move(set)](const std::string&, const std::string& value) { set(value); });
  }

  void whole_number(CLI::App* command, const std::string& names, const std::string& help, long long lowest,
                    long long highest, std::function<void(long long)> set) {
    const std::string name = command->get_name();
    text(command, names, "N", help, [=, set = std::move(set)](const std::string& typed, const std::string& value) {
      set(parse_integer(typed, value, lowest, highest, name));
    });
  }

  void add_run() {
    CLI::App* run = command("run", "Runs the search CONFIG describes; each option overrides the config.");
    RunArguments& r = line_.run;
    path(run, "CONFIG", "", "the search's TOML file (default configs/default.toml)",
         [&r](const std::filesystem::path& p) { r.config = p; });
    text(run, "--device", "auto|cpu|cuda", "where to train ([execution] device)",
         [&r](const std::string&, const std::string& d) {
           if (d == "auto")
             r.device = Device::Auto;
           else if (d == "cpu")
             r.device = Device::Cpu;
           else if (d == "cuda")
             r.device = Device::Cuda;
           else
             usage_error("--device must be auto, cpu or cuda, not '" + d + "'", "run");
         });
    whole_number(run, "-j,--cpu-count", "worker threads, 0 = every core ([execution] cpu_count)", 0, 4096,
                 [&r](long long n) { r.cpu_count = static_cast<int>(n); });
    path(run, "--output-dir", "DIR", "folder for the result files and the study journal ([output] dir)",
         [&r](const std::filesystem::path& p) { r.output_dir = p; });
    whole_number(run, "--seed", "search seed ([search] seed)", 0, INT64_MAX,
                 [&r](long long n) { r.seed = static_cast<std::uint64_t>(n); });
    whole_number(run, "--reruns", "trainings per combination ([search] rerun_count)", 1, kMaxRerunCount,
                 [&r](long long n) { r.reruns = static_cast<int>(n); });
    run->add_flag("--fresh", r.fresh,
                  "discard the output folder's study journal and start over\n"
                  "(without it, running the same search again resumes it)");
    run->add_flag("-q,--quiet", r.quiet, "no progress line");
    run->add_flag("--dry-run", r.dry_run,
                  "print the plan (combinations, trainings, packs, largest network, estimated FLOP and peak memory) "
                  "and exit; trains nothing and leaves the output folder alone");
  }

  void add_predict() {
    CLI::App* predict =
        command("predict",
                "Applies a kept combination's trained networks to DATA.csv: each row's probability (the mean of\n"
                "the reruns' sigmoid outputs) and whether it is a buy (above the search's prediction_threshold),\n"
                "most probable first. DATA.csv holds the training file's feature columns, optionally an\n"
                "identifier (a ticker) first and a 0/1 label last.");
    PredictArguments& p = line_.predict;
    path(predict, "DATA.csv", "", "the rows to predict", [&p](const std::filesystem::path& v) { p.data = v; });
    study_and_rank(predict, p.study, p.rank);
    path(predict, "-o,--out", "FILE", "write the buy list here (replaced atomically) instead of to stdout",
         [&p](const std::filesystem::path& v) { p.out = v; });
    requirements_.push_back({"predict", [&p] { return !p.data.empty(); },
                             "predict needs the data file to predict: "
                             "hyperfuse predict [--study DIR] [--rank N] "
                             "DATA.csv [--out FILE]"});
  }

  void add_export() {
    CLI::App* e =
        command("export",
                "Writes a kept combination's trained networks as one ONNX model (opset 17): standardisation,\n"
                "every rerun's layers, activation and sigmoid, and their mean. Input 'features' float32\n"
                "[rows, n]; outputs 'probability' float32 [rows] and 'buy' bool [rows].");
    ExportArguments& x = line_.export_model;
    study_and_rank(e, x.study, x.rank);
    path(e, "--onnx", "FILE", "the ONNX file to write", [&x](const std::filesystem::path& v) { x.onnx = v; });
    requirements_.push_back(
        {"export", [&x] { return !x.onnx.empty(); }, "export needs --onnx FILE, the file to write"});
  }

  void add_report() {
    CLI::App* report = command("report",
                               "Writes one self-contained HTML page of plots of a finished search (it opens\n"
                               "offline; gnuplot draws them): p-values, each hyperparameter's effect, reruns, the\n"
                               "winner's training loss.");
    ReportArguments& r = line_.report;
    path(report, "--study", "DIR", "the search's output folder (default results)",
         [&r](const std::filesystem::path& v) { r.study = v; });
    path(report, "-o,--out", "FILE", "the HTML file to write (default DIR/report.html)",
         [&r](const std::filesystem::path& v) { r.out = v; });
  }

  void add_devices() {
    CLI::App* devices =
        command("devices",
                "Lists every visible GPU: name, compute capability, memory, shared memory per\n"
                "block, and whether this build can train on it; with CONFIG, what that search's\n"
                "plan does on each chosen GPU (networks per pack, what stays on chip and what\n"
                "goes to global scratch, workers, launches per epoch). Reads the data, trains nothing.");
    DevicesArguments& d = line_.devices;
    path(devices, "CONFIG", "", "a search's TOML file", [&d](const std::filesystem::path& v) { d.config = v; });
  }

  void add_make_data() {
    CLI::App* make_data = command("make-data", "Writes synthetic D.AT-shaped train.csv and test.csv.");
    MakeDataArguments& m = line_.make_data;
    path(make_data, "--out-dir", "DIR", "where to write the files (default example_data)",
         [&m](const std::filesystem::path& v) { m.out_dir = v; });
    whole_number(make_data, "--train-rows", "training rows (default 10000)", 1, 100000000,
                 [&m](long long n) { m.train_rows = static_cast<int>(n); });
    whole_number(make_data, "--test-rows", "test rows (default 2500)", 1, 100000000,
                 [&m](long long n) { m.test_rows = static_cast<int>(n); });
    whole_number(make_data, "--latest-rows",
                 "also write latest.csv: this many stocks' last 30 closes behind a ticker,\n"
                 "no label, as predict reads (default 0: none)",
                 0, 100000000, [&m](long long n) { m.latest_rows = static_cast<int>(n); });
    whole_number(make_data, "--seed", "generator seed (default 2024)", 0, INT64_MAX,
                 [&m](long long n) { m.seed = static_cast<std::uint64_t>(n); });
  }

  void add_convert() {
    CLI::App* convert =
        command("convert",
                "Writes the seed script's config.py as the TOML config `hyperfuse run` reads. The\n"
                "file is parsed, never run (python3 and the package's python/hyperfuse/convert.py:\n"
                "the one reader of config.py, shared with hyperfuse.read_seed_config; docs/PYTHON.md).");
    ConvertArguments& c = line_.convert;
    path(convert, "CONFIG.py", "", "the seed's config.py", [&c](const std::filesystem::path& v) { c.config = v; });
    path(convert, "-o,--out", "FILE", "the TOML file to write (default: standard output)",
         [&c](const std::filesystem::path& v) { c.out = v; });
    path(convert, "--train", "FILE", "[data] train of the TOML (relative to the TOML's folder)",
         [&c](const std::filesystem::path& v) { c.train = v; });
    path(convert, "--test", "FILE", "[data] test of the TOML (relative to the TOML's folder)",
         [&c](const std::filesystem::path& v) { c.test = v; });
    path(convert, "--output-dir", "DIR", "[output] dir of the TOML (relative to the TOML's folder)",
         [&c](const std::filesystem::path& v) { c.output_dir = v; });
    requirements_.push_back({"convert", [&c] { return !c.config.empty(); },
                             "convert needs the config.py to read: hyperfuse convert CONFIG.py [--out FILE]"});
  }

  void add_benchmark() {
    CLI::App* b = command("benchmark",
                          "Runs the same short search (a sample of CONFIG's combinations, one training each; without\n"
                          "CONFIG the default grid on generated data) on the CPU and on each GPU, and prints one\n"
                          "table: trainings/s, samples/s, GFLOP/s, the share of the device's FP32 peak and the speed\n"
                          "against the CPU. What to run first on a new machine.");
    BenchmarkArguments& a = line_.benchmark;
    path(b, "CONFIG", "", "a search's TOML file (default: configs/default.toml's grid on generated data)",
         [&a](const std::filesystem::path& p) { a.config = p; });
    whole_number(b, "--trainings", "combinations drawn, one training each (default 32)", 1, 100000,
                 [&a](long long n) { a.trainings = static_cast<int>(n); });
    whole_number(b, "--train-rows", "rows of the generated training data, without CONFIG (default 10000)", 100,
                 10000000, [&a](long long n) { a.train_rows = static_cast<int>(n); });
  }

  void study_and_rank(CLI::App* command, std::filesystem::path& study, int& rank) {
    path(command, "--study", "DIR", "the search's output folder (default results)",
         [&study](const std::filesystem::path& v) { study = v; });
    whole_number(command, "--rank", "which kept combination: 1 = the best (default 1)", 1, kMaxKeptModels,
                 [&rank](long long n) { rank = static_cast<int>(n); });
  }

  // Records the command and checks what it cannot do without.
  void finish(const std::string& name) {
    static const std::vector<std::pair<std::string, Command>> kCommands = {
        {"run", Command::Run},       {"predict", Command::Predict},    {"export", Command::Export},
        {"report", Command::Report}, {"make-data", Command::MakeData}, {"convert", Command::Convert},
        {"devices", Command::Devices},   {"benchmark", Command::Benchmark}};
    for (const auto& [command_name, command] : kCommands) {
      if (command_name == name) line_.command = command;
    }
    for (const Requirement& r : requirements_) {
      if (r.command == name && !r.met()) usage_error(r.message, name);
    }
  }

  CLI::App* active() const {
    for (CLI::App* c : app_.get_subcommands()) return c;
    return nullptr;
  }

  CLI::App* command_named(const std::string& name) const {
    for (CLI::App* c : commands_) {
      if (c->get_name() == name) return c;
    }
    return nullptr;
  }

  std::vector<std::string> command_names() const {
    std::vector<std::string> names;
    for (CLI::App* c : commands_) names.push_back(c->get_name());
    names.push_back("help");
    return names;
  }

  void show_help(const std::string& topic) {
    line_.command = Command::Help;
    if (CLI::App* c = command_named(topic)) {
      line_.help = c->help("hyperfuse");
      return;
    }
    line_.help = kIntroduction;
    for (CLI::App* c : commands_) line_.help += "\n" + c->help("hyperfuse");
    line_.help += kExitStatus;
  }

  [[noreturn]] void unknown_command(const std::string& given) const {
    std::string message = "unknown command '" + given + "'";
    const std::string guess = closest_choice(given, command_names());
    if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
    usage_error(message + "; the commands are " + join_choices(command_names()), "");
  }

  // CLI11 found arguments no option or positional takes: an unknown command or option, or a
  // second file name.
  [[noreturn]] void unexpected_arguments() const {
    CLI::App* command = active();
    const std::vector<std::string> extras = command ? command->remaining() : app_.remaining();
    const std::string first = extras.empty() ? "" : extras.front();
    const std::string name = command ? command->get_name() : "";
    if (looks_like_option(first)) {
      std::string message = "unknown option '" + first + "'";
      const std::string guess =
          closest_choice(first.substr(0, first.find('=')), option_names(command ? *command : app_));
      if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
      usage_error(message, name);
    }
    if (command == nullptr) unknown_command(first);
    for (const std::unique_ptr<Value>& value : values_) {
      if (value->option->get_positional() && value->command == command && value->option->count() > 0) {
        const std::string what = name == "run" || name == "benchmark" ? "config file" : "data file";
        usage_error(name + " takes one " + what + ", but got '" + value->text + "' and '" + first + "'", name);
      }
    }
    usage_error("unexpected argument '" + first + "': " + name + " takes no file name", name);
  }

  // CLI11's "NAME: 1 required TEXT missing": the option ended the arguments without its value.
  [[noreturn]] void missing_value(const std::string& what) const {
    const std::string name = what.substr(0, what.find(':'));
    CLI::App* command = active();
    const CLI::Option* option = command ? command->get_option_no_throw(name) : app_.get_option_no_throw(name);
    const std::string command_name = command ? command->get_name() : "";
    if (option == nullptr) usage_error(what, command_name);
    usage_error(typed_name(*option, args_) + " needs a value", command_name);
  }

  struct Requirement {
    std::string command;
    std::function<bool()> met;
    std::string message;
  };

  CommandLine& line_;
  const std::vector<std::string>& args_;
  CLI::App app_;
  std::vector<CLI::App*> commands_;
  CLI::App* help_ = nullptr;
  std::string help_topic_;
  bool version_ = false;
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<Requirement> requirements_;
};

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine line;
  Parser(line, args).parse();
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
