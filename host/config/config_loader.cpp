// Reads a search config with TOML++ and validates every key, so that a mistake is reported
// once, up front, with its file, line and column and what to write instead.
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"
#include "host/common/suggest.hpp"
#include "host/config/search_config.hpp"
#include "host/search/search_space.hpp"

namespace hf {
namespace {

using Entries = std::vector<std::pair<const toml::key*, const toml::node*>>;

std::vector<std::string> names_of(const char* const* names, int count) {
  return std::vector<std::string>(names, names + count);
}

// Table entries in the order the file lists them (toml::table itself is sorted by key).
Entries entries_in_file_order(const toml::table& table) {
  Entries entries;
  for (auto&& [key, node] : table) entries.emplace_back(&key, &node);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return entries;
}

std::string describe_type(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "a list";
    case toml::node_type::string: return "the string \"" + node.as_string()->get() + "\"";
    case toml::node_type::integer: return "the integer " + std::to_string(node.as_integer()->get());
    case toml::node_type::floating_point: return "the number " + python_float_repr(node.as_floating_point()->get());
    case toml::node_type::boolean: return node.as_boolean()->get() ? "true" : "false";
    default: return "a date or time";
  }
}

// A number node's value. Not node.value<double>(): TOML++ refuses (returns nothing for) an
// integer that a double cannot hold exactly, such as 5555555555555550001, where a rounded
// value is what range checks need.
double number_value(const toml::node& node) {
  return node.is_integer() ? static_cast<double>(node.as_integer()->get()) : node.as_floating_point()->get();
}

// What to do about a TOML++ parse error, from its description.
std::string syntax_hint(std::string_view description) {
  const auto says = [&](const char* text) { return description.find(text) != std::string_view::npos; };
  if (says("redefine")) return "a key or table may appear only once in a file: remove the second one or merge the two";
  if (says("utf-8")) return "save the config as UTF-8 text";
  if (says("end-of-file"))
    return "a list, string or inline table is not closed: check the brackets and quotes before this point";
  return "write key = value, with strings in double quotes and lists in [ ] (docs/CONFIG.md has examples)";
}

enum class Want { Bool, Integer, Number };

// "; write it without quotes" when a string holds exactly the value that was wanted ("3" for 3).
std::string without_quotes(const toml::node& node, Want want) {
  if (!node.is_string()) return "";
  const std::string& text = node.as_string()->get();
  const char* end = text.data() + text.size();
  bool fits = false;
  if (want == Want::Bool) {
    fits = text == "true" || text == "false";
  } else if (want == Want::Integer) {
    long long integer = 0;
    const auto parsed = std::from_chars(text.data(), end, integer);
    fits = !text.empty() && parsed.ec == std::errc() && parsed.ptr == end;
  } else {
    double number = 0.0;
    const auto parsed = std::from_chars(text.data(), end, number);
    fits = !text.empty() && parsed.ec == std::errc() && parsed.ptr == end && std::isfinite(number);
  }
  return fits ? "; write it without quotes: " + text : "";
}

class ConfigReader {
 public:
  explicit ConfigReader(std::filesystem::path path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& message) const {
    throw InputError(located(path_.string(), static_cast<long long>(where.begin.line),
                             static_cast<long long>(where.begin.column), message));
  }

  // Every key of `table` must be one of `allowed`.
  void check_keys(const toml::table& table, const std::string& context, const std::vector<std::string>& allowed) const {
    for (const auto& [key, node] : entries_in_file_order(table)) {
      const std::string name(key->str());
      if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
      std::string message = context + ": unknown key '" + name + "'";
      const std::string guess = closest_choice(name, allowed);
      if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
      fail(key->source(), message + "; valid keys are: " + join_choices(allowed));
    }
  }

  const toml::table* subtable(const toml::table& root, const std::string& name) const {
    const toml::node* node = root.get(name);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) {
      fail(node->source(), "'" + name + "' must be a table, written [" + name + "] on a line of its own, but it is " +
                               describe_type(*node));
    }
    return node->as_table();
  }

  bool read_bool(const toml::table& table, const std::string& context, const char* key, bool fallback) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return fallback;
    if (!node->is_boolean())
      fail(node->source(), context + " " + key + ": must be true or false, not " + describe_type(*node) +
                               without_quotes(*node, Want::Bool));
    return node->as_boolean()->get();
  }

  long long read_integer(const toml::table& table, const std::string& context, const char* key, long long fallback,
                         long long lowest, long long highest) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return fallback;
    if (!node->is_integer())
      fail(node->source(), context + " " + key + ": must be a whole number, not " + describe_type(*node) +
                               without_quotes(*node, Want::Integer));
    const long long value = node->as_integer()->get();
    if (value < lowest || value > highest) {
      fail(node->source(), context + " " + key + ": " + std::to_string(value) + " is out of range; use a value from " +
                               std::to_string(lowest) + " to " + std::to_string(highest));
    }
    return value;
  }

  double read_number(const toml::table& table, const std::string& context, const char* key, double fallback) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return fallback;
    if (!node->is_number())
      fail(node->source(), context + " " + key + ": must be a number, not " + describe_type(*node) +
                               without_quotes(*node, Want::Number));
    return number_value(*node);
  }

  std::string read_string(const toml::table& table, const std::string& context, const char* key,
                          const std::string& fallback) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return fallback;
    if (!node->is_string())
      fail(node->source(), context + " " + key + ": must be a quoted string, not " + describe_type(*node));
    return node->as_string()->get();
  }

  // A path relative to the config file's folder, as the config file documents.
  std::filesystem::path read_path(const toml::table* table, const std::string& context, const char* key,
                                  const std::string& fallback) const {
    const std::string text = table ? read_string(*table, context, key, fallback) : fallback;
    if (text.empty()) {
      fail(table && table->get(key) ? table->get(key)->source() : toml::source_region{},
           context + " " + key + ": must not be empty; give a file or folder path");
    }
    std::filesystem::path p(text);
    if (p.is_relative()) p = path_.parent_path() / p;
    return p.lexically_normal();
  }

  // [execution] gpus: "all" (an empty list) or a list of distinct CUDA device ids.
  std::vector<int> read_gpus(const toml::table& table) const {
    const toml::node* node = table.get("gpus");
    if (node == nullptr) return {};
    constexpr const char* kHow = "write gpus = \"all\" or a list of CUDA device ids, e.g. gpus = [0, 1]";
    if (const toml::value<std::string>* text = node->as_string()) {
      if (text->get() == "all") return {};
      fail(node->source(), "[execution] gpus: unknown value \"" + text->get() + "\"; " + kHow);
    }
    const toml::array* list = node->as_array();
    if (list == nullptr)
      fail(node->source(), "[execution] gpus: must be \"all\" or a list, not " + describe_type(*node) + "; " + kHow);
    if (list->empty()) fail(node->source(), std::string("[execution] gpus: the list is empty; ") + kHow);
    std::vector<int> ids;
    std::vector<const toml::node*> sources;
    for (const toml::node& element : *list) {
      if (!element.is_integer()) {
        fail(element.source(),
             "[execution] gpus: device ids are whole numbers, not " + describe_type(element) + "; " + kHow);
      }
      const long long id = element.as_integer()->get();
      if (id < 0 || id > 1023) {
        fail(element.source(), "[execution] gpus: " + std::to_string(id) +
                                   " is not a device id; ids count from 0 (nvidia-smi lists them)");
      }
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] == id) {
          fail(element.source(), "[execution] gpus: device " + std::to_string(id) + " is listed twice (also at line " +
                                     std::to_string(sources[i]->source().begin.line) + "); remove one");
        }
      }
      ids.push_back(static_cast<int>(id));
      sources.push_back(&element);
    }
    return ids;
  }

  HyperparameterAxis read_axis(Hyperparameter key, const toml::node& node) const {
    const std::string context = std::string("[hyperparameters] ") + key_name(key);
    const toml::array* list = node.as_array();
    if (list == nullptr) {
      fail(node.source(), context + ": must be a list of values, e.g. " + key_name(key) + " = [" + example(key) +
                              "], not " + describe_type(node));
    }
    if (list->empty()) {
      fail(node.source(), context + ": the list is empty; give at least one value, e.g. " + key_name(key) + " = [" +
                              example(key) + "], or remove the key to use its default");
    }
    HyperparameterAxis axis{key, {}};
    // Equal values however they are written: 0 and 0.0, [2, 1] and [2.0, 1.0]. A map, not a
    // scan of the values so far, so that a list of 100,000 values loads in well under a second.
    std::map<std::tuple<double, std::vector<double>, int>, const toml::node*> seen;
    for (const toml::node& element : *list) {
      HyperparameterValue value = read_value(key, context, element);
      const auto [earlier, inserted] =
          seen.emplace(std::make_tuple(value.number, value.multiples, value.code), &element);
      if (!inserted) {
        fail(element.source(), context + ": " + value.text + " is listed twice (also at line " +
                                   std::to_string(earlier->second->source().begin.line) + "); remove one");
      }
      axis.values.push_back(std::move(value));
    }
    return axis;
  }

 private:
  static std::string example(Hyperparameter key) {
    switch (key) {
      case Hyperparameter::LearningRate: return "0.001, 0.0005";
      case Hyperparameter::MaxEpochs: return "8";
      case Hyperparameter::BatchSize: return "32, 64";
      case Hyperparameter::HiddenLayers: return "[2, 3, 2, 1, 0.5]";
      case Hyperparameter::LossFunction: return "\"BCE\", \"MSE\"";
      case Hyperparameter::ActivationFunction: return "\"ReLU\", \"Tanh\"";
      case Hyperparameter::Optimizer: return "\"Adam\", \"RMSprop\"";
      case Hyperparameter::Dropout: return "0.0, 0.2";
      case Hyperparameter::L1Regularization:
      case Hyperparameter::L2Regularization: return "0.0, 0.0001";
      case Hyperparameter::WeightInitialization: return "\"xavier_uniform\"";
    }
    return "";
  }

  static std::string number_text(const toml::node& node) {
    return node.is_integer() ? python_int_repr(node.as_integer()->get())
                             : python_float_repr(node.as_floating_point()->get());
  }

  double read_finite_number(const std::string& context, const toml::node& element) const {
    if (!element.is_number())
      fail(element.source(), context + ": each value must be a number, not " + describe_type(element) +
                                 without_quotes(element, Want::Number));
    const double value = number_value(element);
    if (!std::isfinite(value))
      fail(element.source(), context + ": " + number_text(element) + " is not a finite number");
    return value;
  }

  int read_name(const std::string& context, const toml::node& element, const char* const* names, int count) const {
    const std::vector<std::string> choices = names_of(names, count);
    if (!element.is_string()) {
      fail(element.source(), context + ": each value must be a quoted name, not " + describe_type(element) +
                                 "; valid names are: " + join_choices(choices));
    }
    const std::string name = element.as_string()->get();
    for (int i = 0; i < count; ++i) {
      if (name == names[i]) return i;
    }
    std::string message = context + ": unknown name \"" + name + "\"";
    const std::string guess = closest_choice(name, choices);
    if (!guess.empty()) message += " (did you mean \"" + guess + "\"?)";
    fail(element.source(), message + "; valid names are: " + join_choices(choices));
  }

  // A value chosen by name: its index in `names` is the code the trainer uses.
  HyperparameterValue named(const std::string& context, const toml::node& element, const char* const* names,
                            int count) const {
    HyperparameterValue v;
    v.code = read_name(context, element, names, count);
    v.text = names[v.code];
    return v;
  }

  HyperparameterValue read_value(Hyperparameter key, const std::string& context, const toml::node& element) const {
    HyperparameterValue v;
    switch (key) {
      case Hyperparameter::LearningRate:
        v.number = read_finite_number(context, element);
        v.text = number_text(element);
        if (v.number <= 0.0 || v.number > 10.0) {
          fail(element.source(),
               context + ": " + v.text +
                   " is out of range; a learning rate must be above 0 and at most 10 (typical: 0.0001 to 0.1)");
        }
        return v;
      case Hyperparameter::MaxEpochs:
      case Hyperparameter::BatchSize: {
        if (!element.is_integer())
          fail(element.source(), context + ": each value must be a whole number, not " + describe_type(element) +
                                     without_quotes(element, Want::Integer));
        const long long n = element.as_integer()->get();
        const long long highest = key == Hyperparameter::MaxEpochs ? 100000 : 1000000;
        if (n < 1 || n > highest) {
          fail(element.source(), context + ": " + std::to_string(n) +
                                     " is out of range; use a whole number from 1 to " + std::to_string(highest));
        }
        v.number = static_cast<double>(n);
        v.text = python_int_repr(n);
        return v;
      }
      case Hyperparameter::HiddenLayers: {
        const toml::array* multiples = element.as_array();
        if (multiples == nullptr) {
          fail(element.source(),
               context +
                   ": each value is one network's list of hidden-layer widths as multiples of the input width, "
                   "so write a list of lists, e.g. hidden_layers = [[2, 3, 2, 1, 0.5]], not " +
                   describe_type(element));
        }
        v.text = "[";
        for (const toml::node& m : *multiples) {
          const double multiple = read_finite_number(context, m);
          if (multiple <= 0.0 || multiple > 1000.0) {
            fail(m.source(), context + ": layer width multiple " + number_text(m) +
                                 " is out of range; use a number above 0 and at most 1000");
          }
          v.multiples.push_back(multiple);
          v.text += (v.text.size() > 1 ? ", " : "") + number_text(m);
        }
        v.text += "]";
        return v;
      }
      case Hyperparameter::LossFunction: return named(context, element, kLossNames, kLossCount);
      case Hyperparameter::ActivationFunction: return named(context, element, kActivationNames, kActivationCount);
      case Hyperparameter::Optimizer: return named(context, element, kOptimizerNames, kOptimizerCount);
      case Hyperparameter::WeightInitialization: return named(context, element, kWeightInitNames, kWeightInitCount);
      case Hyperparameter::Dropout:
        v.number = read_finite_number(context, element);
        v.text = number_text(element);
        if (v.number < 0.0 || v.number >= 1.0) {
          fail(element.source(),
               context + ": " + v.text +
                   " is out of range; dropout is a probability from 0 up to (not including) 1, e.g. 0.2");
        }
        return v;
      case Hyperparameter::L1Regularization:
      case Hyperparameter::L2Regularization:
        v.number = read_finite_number(context, element);
        v.text = number_text(element);
        if (v.number < 0.0 || v.number > 100.0) {
          fail(element.source(),
               context + ": " + v.text + " is out of range; use 0 (off) or a small positive weight such as 0.0001");
        }
        return v;
    }
    return v;
  }

  std::filesystem::path path_;
};

}  // namespace

const char* device_name(Device device) {
  switch (device) {
    case Device::Auto: return "auto";
    case Device::Cpu: return "cpu";
    case Device::Cuda: return "cuda";
  }
  return "?";
}

SearchConfig load_search_config(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file || std::filesystem::is_directory(path)) {
    throw InputError(path.string() +
                     ": cannot open the config file; check the path (the default is configs/default.toml, run from the "
                     "repository root)");
  }
  std::stringstream text;
  text << file.rdbuf();
  return parse_search_config(text.str(), path);
}

SearchConfig parse_search_config(std::string_view text, const std::filesystem::path& path) {
  ConfigReader reader(path);
  toml::table root;
  try {
    root = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    reader.fail(e.source(), "TOML syntax error: " + std::string(e.description()) + "; " + syntax_hint(e.description()));
  }

  reader.check_keys(root, "top level", {"data", "search", "execution", "output", "hyperparameters"});
  SearchConfig config;
  config.source = path;

  const toml::table* data = reader.subtable(root, "data");
  if (data) reader.check_keys(*data, "[data]", {"train", "test", "shuffle"});
  config.train_path = reader.read_path(data, "[data]", "train", "../example_data/train.csv");
  config.test_path = reader.read_path(data, "[data]", "test", "../example_data/test.csv");
  if (data) config.shuffle = reader.read_bool(*data, "[data]", "shuffle", false);

  const toml::table empty;
  const toml::table* search = reader.subtable(root, "search");
  const toml::table& s = search ? *search : empty;
  reader.check_keys(
      s, "[search]",
      {"explore_all_combinations", "number_of_combinations_to_try", "rerun_count", "seed", "prediction_threshold"});
  config.explore_all_combinations = reader.read_bool(s, "[search]", "explore_all_combinations", true);
  config.combinations_to_try = static_cast<std::uint64_t>(reader.read_integer(
      s, "[search]", "number_of_combinations_to_try", 100, 1, static_cast<long long>(kMaxCombinations)));
  config.rerun_count = static_cast<int>(reader.read_integer(s, "[search]", "rerun_count", 3, 1, kMaxRerunCount));
  config.seed = static_cast<std::uint64_t>(reader.read_integer(s, "[search]", "seed", 42, 0, INT64_MAX));
  config.prediction_threshold = reader.read_number(s, "[search]", "prediction_threshold", 0.5);
  if (!(config.prediction_threshold > 0.0 && config.prediction_threshold < 1.0)) {
    reader.fail(s.get("prediction_threshold")->source(),
                "[search] prediction_threshold: " + python_float_repr(config.prediction_threshold) +
                    " is out of range; the network outputs a probability, so use a value between 0 and 1 (exclusive), "
                    "e.g. 0.5");
  }

  const toml::table* execution = reader.subtable(root, "execution");
  const toml::table& e = execution ? *execution : empty;
  reader.check_keys(e, "[execution]", {"device", "cpu_count", "gpus"});
  const std::string device = reader.read_string(e, "[execution]", "device", "auto");
  if (device == "auto")
    config.device = Device::Auto;
  else if (device == "cpu")
    config.device = Device::Cpu;
  else if (device == "cuda")
    config.device = Device::Cuda;
  else
    reader.fail(e.get("device")->source(),
                "[execution] device: unknown device \"" + device + "\"; valid devices are: auto, cpu, cuda");
  config.cpu_count = static_cast<int>(reader.read_integer(e, "[execution]", "cpu_count", 0, 0, 4096));
  config.gpus = reader.read_gpus(e);

  const toml::table* output = reader.subtable(root, "output");
  if (output) reader.check_keys(*output, "[output]", {"dir"});
  config.output_dir = reader.read_path(output, "[output]", "dir", "../results");

  const toml::table* hyperparameters = reader.subtable(root, "hyperparameters");
  const std::vector<std::string> keys = names_of(kHyperparameterKeys, kHyperparameterCount);
  bool listed[kHyperparameterCount] = {};
  if (hyperparameters) {
    reader.check_keys(*hyperparameters, "[hyperparameters]", keys);
    for (const auto& [key, node] : entries_in_file_order(*hyperparameters)) {
      const int index = static_cast<int>(std::find(keys.begin(), keys.end(), std::string(key->str())) - keys.begin());
      config.axes.push_back(reader.read_axis(static_cast<Hyperparameter>(index), *node));
      listed[index] = true;
    }
  }
  for (int k = 0; k < kHyperparameterCount; ++k) {
    if (!listed[k])
      config.axes.push_back({static_cast<Hyperparameter>(k), {default_value(static_cast<Hyperparameter>(k))}});
  }

  const std::optional<std::uint64_t> total = combination_count(config.axes);
  if (!total) {
    reader.fail(hyperparameters ? hyperparameters->source() : toml::source_region{},
                "[hyperparameters] the search space has more than 2^64 combinations, more than any search can sample "
                "meaningfully; list fewer values per key");
  }
  if (config.explore_all_combinations && *total > kMaxCombinations) {
    const toml::node* where = s.get("explore_all_combinations");
    reader.fail(where ? where->source() : (hyperparameters ? hyperparameters->source() : toml::source_region{}),
                "[search] the full grid has " + std::to_string(*total) + " combinations, more than the " +
                    std::to_string(kMaxCombinations) +
                    " a grid search may run; set explore_all_combinations = false and number_of_combinations_to_try "
                    "to sample that many at random, or list fewer values");
  }
  return config;
}

}  // namespace hf
