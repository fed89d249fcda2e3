// Reads a search config's tables and keys (the schema docs/CONFIG.md documents) and validates
// every value, so that a mistake is reported once, up front, with its file, line and column and
// what to write instead. Hyperparameter values are read by their descriptors
// (host/search/hyperparameters.hpp); toml_reader.hpp does the generic TOML reading.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"
#include "host/common/suggest.hpp"
#include "host/config/range_reader.hpp"
#include "host/config/search_config.hpp"
#include "host/config/toml_reader.hpp"
#include "host/search/search_space.hpp"

namespace hf {
namespace {

// [execution] gpus: "all" (an empty list) or a list of distinct CUDA device ids.
std::vector<int> read_gpus(const TomlReader& reader, const toml::table& table) {
  const toml::node* node = table.get("gpus");
  if (node == nullptr) return {};
  constexpr const char* kHow = "write gpus = \"all\" or a list of CUDA device ids, e.g. gpus = [0, 1]";
  if (const toml::value<std::string>* text = node->as_string()) {
    if (text->get() == "all") return {};
    reader.fail(node->source(), "[execution] gpus: unknown value \"" + text->get() + "\"; " + kHow);
  }
  const toml::array* list = node->as_array();
  if (list == nullptr)
    reader.fail(node->source(),
                "[execution] gpus: must be \"all\" or a list, not " + describe_type(*node) + "; " + kHow);
  if (list->empty()) reader.fail(node->source(), std::string("[execution] gpus: the list is empty; ") + kHow);
  std::vector<int> ids;
  std::vector<const toml::node*> sources;
  for (const toml::node& element : *list) {
    if (!element.is_integer()) {
      reader.fail(element.source(),
                  "[execution] gpus: device ids are whole numbers, not " + describe_type(element) + "; " + kHow);
    }
    const long long id = element.as_integer()->get();
    if (id < 0 || id > 1023) {
      reader.fail(element.source(), "[execution] gpus: " + std::to_string(id) +
                                        " is not a device id; ids count from 0 (nvidia-smi lists them)");
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == id) {
        reader.fail(element.source(), "[execution] gpus: device " + std::to_string(id) +
                                          " is listed twice (also at line " +
                                          std::to_string(sources[i]->source().begin.line) + "); remove one");
      }
    }
    ids.push_back(static_cast<int>(id));
    sources.push_back(&element);
  }
  return ids;
}

// One listed value of a hyperparameter, read and checked as its descriptor says.
HyperparameterValue read_value(const TomlReader& reader, const HyperparameterDescriptor& d, const std::string& context,
                               const toml::node& element) {
  HyperparameterValue v;
  switch (d.kind) {
    case ValueKind::Number:
      v.number = reader.read_finite_number(context, element);
      v.text = number_text(element);
      if (!d.in_range(v.number))
        reader.fail(element.source(), context + ": " + v.text + " is out of range; " + d.range_fix);
      return v;
    case ValueKind::WholeNumber: {
      const long long n = reader.read_whole_number(context, element);
      if (!d.in_range(static_cast<double>(n)))
        reader.fail(element.source(), context + ": " + std::to_string(n) + " is out of range; " + d.range_fix);
      v.number = static_cast<double>(n);
      v.text = python_int_repr(n);
      return v;
    }
    case ValueKind::LayerMultiples: {
      const toml::array* multiples = element.as_array();
      if (multiples == nullptr) {
        reader.fail(element.source(),
                    context +
                        ": each value is one network's list of hidden-layer widths as multiples of the input width, "
                        "so write a list of lists, e.g. " +
                        d.name + " = [" + d.example + "], not " + describe_type(element));
      }
      v.text = "[";
      for (const toml::node& m : *multiples) {
        const double multiple = reader.read_finite_number(context, m);
        if (!d.in_range(multiple)) {
          reader.fail(m.source(),
                      context + ": layer width multiple " + number_text(m) + " is out of range; " + d.range_fix);
        }
        v.multiples.push_back(multiple);
        v.text += (v.text.size() > 1 ? ", " : "") + number_text(m);
      }
      v.text += "]";
      return v;
    }
    case ValueKind::Name:
      v.code = reader.read_name(context, element, d.names, d.name_count);
      v.text = d.names[v.code];
      return v;
  }
  return v;
}

// Where a range would take its values from: a random search's draws. Otherwise why it cannot.
struct RangePolicy {
  bool allowed = false;
  std::string fix;  // for a search that cannot draw: what to write instead
};

HyperparameterAxis read_axis(const TomlReader& reader, const HyperparameterDescriptor& d, const toml::node& node,
                             const RangePolicy& ranges) {
  const std::string context = std::string("[hyperparameters] ") + d.name;
  const std::string example = std::string(d.name) + " = [" + d.example + "]";
  const toml::node* values = &node;
  if (const toml::table* table = node.as_table()) {
    // A range, or { choice = [...] }: a list written as a distribution, the same list as
    // `key = [...]` in any search.
    const std::string accepted = ranges_accepted(d);
    if (table->size() != 1) {
      reader.fail(node.source(), context + ": a range names exactly one kind, e.g. " + d.name + " = { " +
                                     (accepted.empty() ? "choice = [" + std::string(d.example) + "]"
                                                       : accepted.substr(2, accepted.find(" }") - 2)) +
                                     " }, not " + std::to_string(table->size()) + " keys");
    }
    const auto entry = *table->begin();  // references into the table
    const toml::key& kind = entry.first;
    const toml::node& bounds = entry.second;
    if (kind.str() != kChoiceKey) {
      HyperparameterRange range = read_range(reader, d, context, kind, bounds);
      if (!ranges.allowed) reader.fail(node.source(), context + ": " + ranges.fix);
      HyperparameterAxis axis{d.key, {}, range};
      return axis;
    }
    values = &bounds;
  }
  const toml::array* list = values->as_array();
  if (list == nullptr)
    reader.fail(values->source(),
                context + ": must be a list of values, e.g. " + example +
                    (describe(d.key).accepts(RangeKind::Uniform) || describe(d.key).accepts(RangeKind::IntUniform)
                         ? ", or in a random search a range, " + ranges_accepted(d)
                         : "") +
                    ", not " + describe_type(*values));
  if (list->empty()) {
    reader.fail(values->source(), context + ": the list is empty; give at least one value, e.g. " + example +
                                      ", or remove the key to use its default");
  }
  HyperparameterAxis axis{d.key, {}, std::nullopt};
  // Equal values however they are written: 0 and 0.0, [2, 1] and [2.0, 1.0]. A map, not a
  // scan of the values so far, so that a list of 100,000 values loads in well under a second.
  std::map<std::tuple<double, std::vector<double>, int>, const toml::node*> seen;
  for (const toml::node& element : *list) {
    HyperparameterValue value = read_value(reader, d, context, element);
    const auto [earlier, inserted] = seen.emplace(std::make_tuple(value.number, value.multiples, value.code), &element);
    if (!inserted) {
      reader.fail(element.source(), context + ": " + value.text + " is listed twice (also at line " +
                                        std::to_string(earlier->second->source().begin.line) + "); remove one");
    }
    axis.values.push_back(std::move(value));
  }
  return axis;
}

// [data] validation: a fraction of the training rows (0 < f < 1) or a file; embargo_rows only
// with it.
void read_validation(const TomlReader& reader, const toml::table& data, SearchConfig& config) {
  const toml::node* node = data.get("validation");
  const toml::node* embargo = data.get("embargo_rows");
  if (node == nullptr) {
    if (embargo != nullptr) {
      reader.fail(embargo->source(),
                  "[data] embargo_rows: only means something with a validation set (the rows dropped between the "
                  "training rows and the validation rows); set [data] validation, e.g. validation = 0.2, or remove "
                  "embargo_rows");
    }
    return;
  }
  config.validation_where = config.source.string() + ":" + std::to_string(node->source().begin.line) + ":" +
                            std::to_string(node->source().begin.column);
  constexpr const char* kHow =
      "write a fraction of the training rows to hold out from the end of the training file, e.g. validation = 0.2, "
      "or the path of a validation file in quotes";
  if (node->is_string()) {
    config.validation_path = reader.read_path(&data, "[data]", "validation", "");
  } else if (node->is_number()) {
    const double fraction = number_value(*node);
    if (!(fraction > 0.0 && fraction < 1.0)) {
      reader.fail(node->source(), "[data] validation: " + number_text(*node) +
                                      " is out of range; a fraction must lie between 0 and 1 (exclusive), e.g. 0.2 "
                                      "holds out the last 20% of the training rows");
    }
    config.validation_fraction = fraction;
  } else {
    reader.fail(node->source(),
                "[data] validation: must be a number or a quoted path, not " + describe_type(*node) + "; " + kHow);
  }
  config.embargo_rows = static_cast<int>(reader.read_integer(data, "[data]", "embargo_rows", 0, 0, kMaxDataRows));
}

void read_data(const TomlReader& reader, const toml::table* data, SearchConfig& config) {
  if (data) reader.check_keys(*data, "[data]", {"train", "test", "validation", "embargo_rows", "shuffle"});
  config.train_path = reader.read_path(data, "[data]", "train", "../example_data/train.csv");
  config.test_path = reader.read_path(data, "[data]", "test", "../example_data/test.csv");
  if (data) read_validation(reader, *data, config);
  if (data) config.search.shuffle = reader.read_bool(*data, "[data]", "shuffle", false);
}

// [search] strategy and the keys that go with it. explore_all_combinations, the seed script's
// key, chooses between grid and random search where strategy is not given; beside strategy
// "grid" or "random" it must agree, and with "halving" it chooses the candidates.
void read_strategy(const TomlReader& reader, const toml::table& s, SearchSettings& search) {
  search.explore_all_combinations = reader.read_bool(s, "[search]", "explore_all_combinations", true);
  const toml::node* strategy = s.get("strategy");
  const toml::node* explore = s.get("explore_all_combinations");
  search.strategy = search.explore_all_combinations ? SearchStrategy::Grid : SearchStrategy::Random;
  if (strategy != nullptr) {
    const std::vector<std::string> names = {"grid", "random", "halving"};
    const std::string name = reader.read_string(s, "[search]", "strategy", "grid");
    const auto found = std::find(names.begin(), names.end(), name);
    if (found == names.end()) {
      std::string message = "[search] strategy: unknown strategy \"" + name + "\"";
      const std::string guess = closest_choice(name, names);
      if (!guess.empty()) message += " (did you mean \"" + guess + "\"?)";
      reader.fail(strategy->source(), message + "; valid strategies are: " + join_choices(names));
    }
    search.strategy = static_cast<SearchStrategy>(found - names.begin());
    if (search.strategy != SearchStrategy::Halving) {
      const bool grid = search.strategy == SearchStrategy::Grid;
      if (explore != nullptr && search.explore_all_combinations != grid) {
        reader.fail(explore->source(), std::string("[search] explore_all_combinations = ") +
                                           (grid ? "false asks for a random search" : "true asks for a grid search") +
                                           ", but strategy = \"" + name +
                                           "\"; remove explore_all_combinations (strategy replaces it)");
      }
      search.explore_all_combinations = grid;
    }
  }
  for (const char* key : {"min_epochs", "reduction_factor"}) {
    const toml::node* node = s.get(key);
    if (node != nullptr && !search.halving()) {
      reader.fail(node->source(), std::string("[search] ") + key +
                                      ": only means something in successive halving; set strategy = \"halving\", "
                                      "or remove " +
                                      key);
    }
  }
  search.min_epochs = static_cast<int>(reader.read_integer(s, "[search]", "min_epochs", 1, 1, 100000));
  search.reduction_factor = static_cast<int>(reader.read_integer(s, "[search]", "reduction_factor", 3, 2, 1000000));
}

void read_search(const TomlReader& reader, const toml::table& s, SearchSettings& search) {
  reader.check_keys(
      s, "[search]",
      {"explore_all_combinations", "number_of_combinations_to_try", "rerun_count", "seed", "prediction_threshold",
       "permutations", "permutation_block", "strategy", "min_epochs", "reduction_factor"});
  read_strategy(reader, s, search);
  search.combinations_to_try = static_cast<std::uint64_t>(reader.read_integer(
      s, "[search]", "number_of_combinations_to_try", 100, 1, static_cast<long long>(kMaxCombinations)));
  search.rerun_count = static_cast<int>(reader.read_integer(s, "[search]", "rerun_count", 3, 1, kMaxRerunCount));
  search.seed = static_cast<std::uint64_t>(reader.read_integer(s, "[search]", "seed", 42, 0, INT64_MAX));
  search.prediction_threshold = reader.read_number(s, "[search]", "prediction_threshold", 0.5);
  if (!(search.prediction_threshold > 0.0 && search.prediction_threshold < 1.0)) {
    reader.fail(s.get("prediction_threshold")->source(),
                "[search] prediction_threshold: " + python_float_repr(search.prediction_threshold) +
                    " is out of range; the network outputs a probability, so use a value between 0 and 1 (exclusive), "
                    "e.g. 0.5");
  }
}

// [search] permutations and permutation_block: how the search p-value is computed.
void read_permutations(const TomlReader& reader, const toml::table& s, SearchConfig& config) {
  config.permutations = static_cast<int>(reader.read_integer(s, "[search]", "permutations", 1000, 0, kMaxPermutations));
  config.permutation_block =
      static_cast<int>(reader.read_integer(s, "[search]", "permutation_block", 1, 1, kMaxDataRows));
}

void read_execution(const TomlReader& reader, const toml::table& e, SearchConfig& config) {
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
  config.gpus = read_gpus(reader, e);
}

// Ranges need a search that draws its combinations.
RangePolicy range_policy(const SearchSettings& search) {
  RangePolicy policy;
  policy.allowed = !search.explore_all_combinations;
  if (search.halving()) {
    policy.fix =
        "a range draws values at random, but this halving's candidates are the whole grid; list the values to "
        "search, or set [search] explore_all_combinations = false (with number_of_combinations_to_try) to draw "
        "the candidates";
  } else {
    policy.fix =
        "a range draws values at random, which a grid search cannot enumerate; list the values to search instead, "
        "or set [search] strategy = \"random\" (with number_of_combinations_to_try) to draw from the range";
  }
  return policy;
}

// The listed hyperparameters in the file's order, then every key left out with its default.
void read_hyperparameters(const TomlReader& reader, const toml::table* hyperparameters, SearchSettings& search) {
  const RangePolicy ranges = range_policy(search);
  std::vector<std::string> keys;
  for (const HyperparameterDescriptor& d : hyperparameter_table()) keys.emplace_back(d.name);
  std::vector<bool> listed(keys.size(), false);
  if (hyperparameters) {
    reader.check_keys(*hyperparameters, "[hyperparameters]", keys);
    for (const auto& [key, node] : entries_in_file_order(*hyperparameters)) {
      const auto index =
          static_cast<std::size_t>(std::find(keys.begin(), keys.end(), std::string(key->str())) - keys.begin());
      search.axes.push_back(read_axis(reader, hyperparameter_table()[index], *node, ranges));
      listed[index] = true;
    }
  }
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const HyperparameterDescriptor& d = hyperparameter_table()[k];
    if (!listed[k]) search.axes.push_back({d.key, {d.default_value()}, std::nullopt});
  }
}

// A search space numbers cannot name, or a grid too large to run, stops here; so does a space of
// whole-number ranges with fewer combinations than a random search is to draw.
void check_search_size(const TomlReader& reader, const toml::table* hyperparameters, const toml::table& s,
                       const SearchSettings& search) {
  if (search.has_ranges()) {
    const std::optional<std::uint64_t> distinct = distinct_combinations(search.axes);
    if (distinct && *distinct < search.combinations_to_try) {
      const toml::node* where = s.get("number_of_combinations_to_try");
      reader.fail(where ? where->source() : (hyperparameters ? hyperparameters->source() : toml::source_region{}),
                  "[search] number_of_combinations_to_try: " + std::to_string(search.combinations_to_try) +
                      " is more than the " + std::to_string(*distinct) +
                      " distinct combinations these lists and int_uniform ranges hold; ask for at most " +
                      std::to_string(*distinct) + ", or widen a range");
    }
    return;
  }
  const std::optional<std::uint64_t> total = combination_count(search.axes);
  if (!total) {
    reader.fail(hyperparameters ? hyperparameters->source() : toml::source_region{},
                "[hyperparameters] the search space has more than 2^64 combinations, more than any search can sample "
                "meaningfully; list fewer values per key");
  }
  if (search.explore_all_combinations && *total > kMaxCombinations) {
    const toml::node* where = s.get("explore_all_combinations");
    reader.fail(where ? where->source() : (hyperparameters ? hyperparameters->source() : toml::source_region{}),
                "[search] the full grid has " + std::to_string(*total) + " combinations, more than the " +
                    std::to_string(kMaxCombinations) +
                    " a grid search may run; set explore_all_combinations = false and number_of_combinations_to_try "
                    "to sample that many at random, or list fewer values");
  }
}

// Halving trains every candidate to rungs of its own choosing up to one max_epochs, the last
// rung's, which must lie at or above min_epochs.
void check_halving(const TomlReader& reader, const toml::table* hyperparameters, const toml::table& s,
                   const SearchSettings& search) {
  const HyperparameterAxis* epochs = nullptr;
  for (const HyperparameterAxis& axis : search.axes) {
    if (axis.key == Hyperparameter::MaxEpochs) epochs = &axis;
  }
  if (epochs->range || epochs->values.size() != 1) {
    const toml::node* where = hyperparameters ? hyperparameters->get("max_epochs") : nullptr;
    reader.fail(where ? where->source() : toml::source_region{},
                "[hyperparameters] max_epochs: with strategy = \"halving\", max_epochs is the epochs of the last "
                "rung, which the best candidates reach (halving decides how long each trains); give one value, e.g. "
                "max_epochs = [8]");
  }
  const int max_epochs = static_cast<int>(epochs->values.front().number);
  if (search.min_epochs > max_epochs) {
    const toml::node* where = s.get("min_epochs");
    reader.fail(where ? where->source() : toml::source_region{},
                "[search] min_epochs: " + std::to_string(search.min_epochs) + " is more than max_epochs (" +
                    std::to_string(max_epochs) +
                    "), the epochs of the last rung; use a smaller min_epochs, or raise max_epochs");
  }
}

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
  const TomlReader reader(path);
  const toml::table root = reader.parse(text);
  reader.check_keys(root, "top level", {"data", "search", "execution", "output", "hyperparameters"});
  SearchConfig config;
  config.source = path;
  const toml::table empty;
  const auto section = [&](const char* name) { return reader.subtable(root, name); };

  read_data(reader, section("data"), config);
  const toml::table* search = section("search");
  read_search(reader, search ? *search : empty, config.search);
  read_permutations(reader, search ? *search : empty, config);
  const toml::table* execution = section("execution");
  read_execution(reader, execution ? *execution : empty, config);
  const toml::table* output = section("output");
  if (output) reader.check_keys(*output, "[output]", {"dir", "keep_models"});
  config.output_dir = reader.read_path(output, "[output]", "dir", "../results");
  if (output) {
    config.keep_models =
        static_cast<int>(reader.read_integer(*output, "[output]", "keep_models", 5, 0, kMaxKeptModels));
  }
  const toml::table* hyperparameters = section("hyperparameters");
  read_hyperparameters(reader, hyperparameters, config.search);
  if (config.search.halving()) check_halving(reader, hyperparameters, search ? *search : empty, config.search);
  check_search_size(reader, hyperparameters, search ? *search : empty, config.search);
  return config;
}

}  // namespace hf
