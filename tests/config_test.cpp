// hf::load_search_config: what it reads from valid configs (every key, defaults, value texts,
// paths), the repository's configs, and the message for each kind of config error (file, line,
// key and a hint or the valid choices).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/common/errors.hpp"
#include "host/config/search_config.hpp"
#include "host/search/search_space.hpp"
#include "tests/test_paths.hpp"

namespace {

namespace fs = std::filesystem;

// Writes `text` to a fresh search.toml in its own scratch folder and returns the file's path.
fs::path write_config(const std::string& text, const std::string& folder = "config") {
  const fs::path path = hf::testing::scratch_dir(folder) / "search.toml";
  hf::testing::write_text(path, text);
  return path;
}

hf::SearchConfig load_text(const std::string& text) { return hf::load_search_config(write_config(text)); }

// The texts of every value of every axis, axis by axis, with the key first.
std::vector<std::vector<std::string>> axis_texts(const hf::SearchConfig& config) {
  std::vector<std::vector<std::string>> out;
  for (const hf::HyperparameterAxis& axis : config.search.axes) {
    std::vector<std::string> texts{hf::key_name(axis.key)};
    for (const hf::HyperparameterValue& v : axis.values) texts.push_back(v.text);
    out.push_back(texts);
  }
  return out;
}

const hf::HyperparameterAxis& axis_of(const hf::SearchConfig& config, hf::Hyperparameter key) {
  for (const hf::HyperparameterAxis& axis : config.search.axes) {
    if (axis.key == key) return axis;
  }
  throw std::logic_error(std::string("no axis for ") + hf::key_name(key));
}

// Passes when loading `text` throws InputError whose message starts "<file>:<line>:" and
// contains every fragment and none of `unwanted`; the failure shows the whole message.
::testing::AssertionResult fails_at(const std::string& text, int line, const std::vector<std::string>& fragments,
                                    const std::vector<std::string>& unwanted = {}, int column = 0) {
  const fs::path path = write_config(text);
  std::string message;
  try {
    hf::load_search_config(path);
    return ::testing::AssertionFailure() << "loaded without an InputError:\n" << text;
  } catch (const hf::InputError& e) {
    message = e.what();
  }
  const std::string where =
      path.string() + ":" + std::to_string(line) + ":" + (column > 0 ? std::to_string(column) + ":" : "");
  if (message.rfind(where, 0) != 0) {
    return ::testing::AssertionFailure() << "message does not start with \"" << where << "\":\n" << message;
  }
  for (const std::string& fragment : fragments) {
    if (message.find(fragment) == std::string::npos) {
      return ::testing::AssertionFailure() << "message lacks \"" << fragment << "\":\n" << message;
    }
  }
  for (const std::string& fragment : unwanted) {
    if (message.find(fragment) != std::string::npos) {
      return ::testing::AssertionFailure() << "message should not contain \"" << fragment << "\":\n" << message;
    }
  }
  return ::testing::AssertionSuccess() << message;
}

// ---------------------------------------------------------------------------------------------
// Valid configs

TEST(ConfigLoad, FullConfigReadsEveryKeyOfEveryTable) {
  const fs::path path = write_config(R"(# every key of every table
[data]
train = "data/train.csv"
test = "/absolute/elsewhere/test.csv"
shuffle = true

[search]
explore_all_combinations = false
number_of_combinations_to_try = 17
rerun_count = 5
seed = 123456789
prediction_threshold = 0.25

[execution]
device = "cuda"
cpu_count = 6

[output]
dir = "out/results"

[hyperparameters]
optimizer = ["SGD", "Adadelta"]
dropout = [0.0, 0.5]
learning_rate = [0.001, 1e-5, 0.1, 1]
hidden_layers = [[2, 3, 2, 1, 0.5], [0.25], [4.0]]
max_epochs = [8, 16]
weight_initialization = ["orthogonal", "uniform"]
batch_size = [32, 128]
loss_function = ["MSE", "L1"]
l2_regularization = [0.0001]
activation_function = ["Tanh", "GELU", "Softmax"]
l1_regularization = [0.0, 0.00001]
)");
  const hf::SearchConfig config = hf::load_search_config(path);
  const fs::path folder = path.parent_path();

  EXPECT_EQ(config.source, path);
  EXPECT_EQ(config.train_path, (folder / "data/train.csv").lexically_normal());
  EXPECT_EQ(config.test_path, fs::path("/absolute/elsewhere/test.csv"));
  EXPECT_TRUE(config.search.shuffle);

  EXPECT_FALSE(config.search.explore_all_combinations);
  EXPECT_EQ(config.search.combinations_to_try, 17u);
  EXPECT_EQ(config.search.rerun_count, 5);
  EXPECT_EQ(config.search.seed, 123456789u);
  EXPECT_EQ(config.search.prediction_threshold, 0.25);

  EXPECT_EQ(config.device, hf::Device::Cuda);
  EXPECT_EQ(config.cpu_count, 6);

  EXPECT_EQ(config.output_dir, (folder / "out/results").lexically_normal());

  // The file's key order, value texts as Python's repr() would print them.
  const std::vector<std::vector<std::string>> expected = {
      {"optimizer", "SGD", "Adadelta"},
      {"dropout", "0.0", "0.5"},
      {"learning_rate", "0.001", "1e-05", "0.1", "1"},
      {"hidden_layers", "[2, 3, 2, 1, 0.5]", "[0.25]", "[4.0]"},
      {"max_epochs", "8", "16"},
      {"weight_initialization", "orthogonal", "uniform"},
      {"batch_size", "32", "128"},
      {"loss_function", "MSE", "L1"},
      {"l2_regularization", "0.0001"},
      {"activation_function", "Tanh", "GELU", "Softmax"},
      {"l1_regularization", "0.0", "1e-05"},
  };
  EXPECT_EQ(axis_texts(config), expected);

  // The parsed values behind the texts.
  const auto& lr = axis_of(config, hf::Hyperparameter::LearningRate).values;
  EXPECT_EQ(lr[0].number, 0.001);
  EXPECT_EQ(lr[1].number, 1e-5);
  EXPECT_EQ(lr[2].number, 0.1);
  EXPECT_EQ(lr[3].number, 1.0);
  const auto& hidden = axis_of(config, hf::Hyperparameter::HiddenLayers).values;
  EXPECT_EQ(hidden[0].multiples, (std::vector<double>{2, 3, 2, 1, 0.5}));
  EXPECT_EQ(hidden[1].multiples, (std::vector<double>{0.25}));
  EXPECT_EQ(hidden[2].multiples, (std::vector<double>{4.0}));
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::MaxEpochs).values[1].number, 16.0);
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::BatchSize).values[1].number, 128.0);
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::Dropout).values[1].number, 0.5);
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::L1Regularization).values[1].number, 1e-5);
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::L2Regularization).values[0].number, 1e-4);

  const auto& optimizer = axis_of(config, hf::Hyperparameter::Optimizer).values;
  EXPECT_EQ(optimizer[0].code, static_cast<int>(hf::Optimizer::SGD));
  EXPECT_EQ(optimizer[1].code, static_cast<int>(hf::Optimizer::Adadelta));
  const auto& loss = axis_of(config, hf::Hyperparameter::LossFunction).values;
  EXPECT_EQ(loss[0].code, static_cast<int>(hf::Loss::MSE));
  EXPECT_EQ(loss[1].code, static_cast<int>(hf::Loss::L1));
  const auto& activation = axis_of(config, hf::Hyperparameter::ActivationFunction).values;
  EXPECT_EQ(activation[0].code, static_cast<int>(hf::Activation::Tanh));
  EXPECT_EQ(activation[1].code, static_cast<int>(hf::Activation::GELU));
  EXPECT_EQ(activation[2].code, static_cast<int>(hf::Activation::Softmax));
  const auto& init = axis_of(config, hf::Hyperparameter::WeightInitialization).values;
  EXPECT_EQ(init[0].code, static_cast<int>(hf::WeightInit::Orthogonal));
  EXPECT_EQ(init[1].code, static_cast<int>(hf::WeightInit::Uniform));
}

TEST(ConfigLoad, NumberTextsAreWhatPythonsReprPrints) {
  const hf::SearchConfig config = load_text(R"([hyperparameters]
learning_rate = [0.0005, 0.0001, 2.5e-7, 10.0, 3, 0.1, 1E-2]
dropout = [0.30000000000000004, 0.5e0]
hidden_layers = [[1e-3, 1.5, 100]]
)");
  EXPECT_EQ(axis_texts(config)[0],
            (std::vector<std::string>{"learning_rate", "0.0005", "0.0001", "2.5e-07", "10.0", "3", "0.1", "0.01"}));
  EXPECT_EQ(axis_texts(config)[1], (std::vector<std::string>{"dropout", "0.30000000000000004", "0.5"}));
  EXPECT_EQ(axis_texts(config)[2], (std::vector<std::string>{"hidden_layers", "[0.001, 1.5, 100]"}));
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::Dropout).values[0].number, 0.1 + 0.2);
}

TEST(ConfigLoad, KeysLeftOutGetTheirDefaultInCanonicalOrder) {
  const hf::SearchConfig config = load_text(R"([hyperparameters]
dropout = [0.1, 0.2]
learning_rate = [0.01]
)");
  const std::vector<std::vector<std::string>> expected = {
      {"dropout", "0.1", "0.2"},
      {"learning_rate", "0.01"},
      {"max_epochs", "8"},
      {"batch_size", "32"},
      {"hidden_layers", "[2, 3, 2, 1, 0.5]"},
      {"loss_function", "BCE"},
      {"activation_function", "LeakyReLU"},
      {"optimizer", "Adam"},
      {"l1_regularization", "0.0"},
      {"l2_regularization", "0.0"},
      {"weight_initialization", "xavier_uniform"},
  };
  EXPECT_EQ(axis_texts(config), expected);
  EXPECT_EQ(hf::combination_count(config.search.axes), std::optional<std::uint64_t>(2));
}

TEST(ConfigLoad, EmptyFileGivesEveryDefault) {
  const fs::path path = write_config("# nothing but a comment\n");
  const hf::SearchConfig config = hf::load_search_config(path);
  const fs::path folder = path.parent_path();

  EXPECT_EQ(config.train_path, (folder / "../example_data/train.csv").lexically_normal());
  EXPECT_EQ(config.test_path, (folder / "../example_data/test.csv").lexically_normal());
  EXPECT_FALSE(config.search.shuffle);
  EXPECT_TRUE(config.search.explore_all_combinations);
  EXPECT_EQ(config.search.combinations_to_try, 100u);
  EXPECT_EQ(config.search.rerun_count, 3);
  EXPECT_EQ(config.search.seed, 42u);
  EXPECT_EQ(config.search.prediction_threshold, 0.5);
  EXPECT_EQ(config.device, hf::Device::Auto);
  EXPECT_EQ(config.cpu_count, 0);
  EXPECT_EQ(config.output_dir, (folder / "../results").lexically_normal());

  ASSERT_EQ(config.search.axes.size(), static_cast<std::size_t>(hf::kHyperparameterCount));
  for (int k = 0; k < hf::kHyperparameterCount; ++k) {
    const hf::HyperparameterAxis& axis = config.search.axes[static_cast<std::size_t>(k)];
    EXPECT_EQ(axis.key, static_cast<hf::Hyperparameter>(k));
    ASSERT_EQ(axis.values.size(), 1u) << hf::key_name(axis.key);
    EXPECT_EQ(axis.values[0].text, hf::describe(axis.key).default_value().text);
  }
  const std::vector<std::vector<std::string>> expected = {
      {"learning_rate", "0.001"},
      {"max_epochs", "8"},
      {"batch_size", "32"},
      {"hidden_layers", "[2, 3, 2, 1, 0.5]"},
      {"loss_function", "BCE"},
      {"activation_function", "LeakyReLU"},
      {"optimizer", "Adam"},
      {"dropout", "0.0"},
      {"l1_regularization", "0.0"},
      {"l2_regularization", "0.0"},
      {"weight_initialization", "xavier_uniform"},
  };
  EXPECT_EQ(axis_texts(config), expected);
  EXPECT_EQ(hf::combination_count(config.search.axes), std::optional<std::uint64_t>(1));

  const hf::TrainingSettings settings =
      hf::resolve_settings(config.search.axes, std::vector<int>(config.search.axes.size(), 0));
  EXPECT_EQ(settings.learning_rate, 0.001);
  EXPECT_EQ(settings.max_epochs, 8);
  EXPECT_EQ(settings.batch_size, 32);
  EXPECT_EQ(settings.hidden_multiples, (std::vector<double>{2, 3, 2, 1, 0.5}));
  EXPECT_EQ(settings.loss, hf::Loss::BCE);
  EXPECT_EQ(settings.activation, hf::Activation::LeakyReLU);
  EXPECT_EQ(settings.optimizer, hf::Optimizer::Adam);
  EXPECT_EQ(settings.weight_init, hf::WeightInit::XavierUniform);
}

TEST(ConfigLoad, TablesPresentButKeysMissingKeepDefaults) {
  const hf::SearchConfig config = load_text(R"([data]
[search]
seed = 9
[execution]
[output]
[hyperparameters]
)");
  EXPECT_EQ(config.search.seed, 9u);
  EXPECT_EQ(config.search.rerun_count, 3);
  EXPECT_TRUE(config.search.explore_all_combinations);
  EXPECT_FALSE(config.search.shuffle);
  EXPECT_EQ(config.device, hf::Device::Auto);
  EXPECT_EQ(config.output_dir.filename(), "results");
  EXPECT_EQ(config.train_path.filename(), "train.csv");
  EXPECT_EQ(config.search.axes.size(), static_cast<std::size_t>(hf::kHyperparameterCount));
}

TEST(ConfigLoad, RelativePathsResolveAgainstTheConfigFolder) {
  const fs::path folder = hf::testing::scratch_dir("nested");
  const fs::path path = folder / "configs" / "deeper" / "search.toml";
  hf::testing::write_text(path, R"([data]
train = "../../data/train.csv"
test = "./test.csv"
[output]
dir = "../out"
)");
  const hf::SearchConfig config = hf::load_search_config(path);
  EXPECT_EQ(config.train_path, (folder / "data/train.csv").lexically_normal());
  EXPECT_EQ(config.test_path, (folder / "configs/deeper/test.csv").lexically_normal());
  EXPECT_EQ(config.output_dir, (folder / "configs/out").lexically_normal());
}

TEST(ConfigLoad, GpusAllOrAList) {
  EXPECT_TRUE(load_text("").gpus.empty());  // default: every visible device
  EXPECT_TRUE(load_text("[execution]\ngpus = \"all\"\n").gpus.empty());
  EXPECT_EQ(load_text("[execution]\ngpus = [2, 0]\n").gpus, (std::vector<int>{2, 0}));
}

TEST(ConfigLoad, EveryDeviceName) {
  EXPECT_EQ(load_text("[execution]\ndevice = \"auto\"\n").device, hf::Device::Auto);
  EXPECT_EQ(load_text("[execution]\ndevice = \"cpu\"\n").device, hf::Device::Cpu);
  EXPECT_EQ(load_text("[execution]\ndevice = \"cuda\"\n").device, hf::Device::Cuda);
  EXPECT_STREQ(hf::device_name(hf::Device::Auto), "auto");
  EXPECT_STREQ(hf::device_name(hf::Device::Cpu), "cpu");
  EXPECT_STREQ(hf::device_name(hf::Device::Cuda), "cuda");
}

TEST(ConfigLoad, LimitsThemselvesAreAccepted) {
  const hf::SearchConfig config = load_text(R"([search]
explore_all_combinations = false
number_of_combinations_to_try = 1000000
rerun_count = 1000
seed = 0
prediction_threshold = 0.999
[execution]
cpu_count = 4096
[hyperparameters]
learning_rate = [10, 1e-12]
max_epochs = [1, 100000]
batch_size = [1, 1000000]
dropout = [0.0, 0.99]
hidden_layers = [[1000], [0.001]]
l1_regularization = [100.0]
)");
  EXPECT_EQ(config.search.combinations_to_try, 1000000u);
  EXPECT_EQ(config.search.rerun_count, 1000);
  EXPECT_EQ(config.search.seed, 0u);
  EXPECT_EQ(config.cpu_count, 4096);
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::LearningRate).values[0].text, "10");
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::LearningRate).values[1].text, "1e-12");
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::BatchSize).values[1].number, 1e6);
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::HiddenLayers).values[1].text, "[0.001]");
}

TEST(ConfigLoad, RepositoryDefaultConfig) {
  const fs::path configs = hf::testing::source_dir() / "configs";
  const hf::SearchConfig config = hf::load_search_config(configs / "default.toml");
  EXPECT_TRUE(config.search.explore_all_combinations);
  EXPECT_EQ(config.search.rerun_count, 3);
  EXPECT_EQ(config.search.seed, 42u);
  EXPECT_EQ(config.device, hf::Device::Auto);
  EXPECT_EQ(config.train_path, (hf::testing::source_dir() / "example_data/train.csv").lexically_normal());
  EXPECT_EQ(config.test_path, (hf::testing::source_dir() / "example_data/test.csv").lexically_normal());
  EXPECT_EQ(config.output_dir, (hf::testing::source_dir() / "results").lexically_normal());
  EXPECT_EQ(config.search.axes.size(), static_cast<std::size_t>(hf::kHyperparameterCount));
  EXPECT_EQ(hf::combination_count(config.search.axes), std::optional<std::uint64_t>(2 * 1 * 2 * 2 * 2 * 4 * 2 * 2));
  EXPECT_EQ(axis_texts(config)[3], (std::vector<std::string>{"hidden_layers", "[2, 3, 2, 1, 0.5]", "[2, 1, 0.5]"}));
}

TEST(ConfigLoad, RepositorySeedConfigIsTheSeedScriptsGrid) {
  const hf::SearchConfig config = hf::load_search_config(hf::testing::source_dir() / "configs" / "seed.toml");
  EXPECT_TRUE(config.search.explore_all_combinations);
  EXPECT_EQ(config.search.rerun_count, 3);
  EXPECT_EQ(config.search.seed, 42u);
  EXPECT_EQ(config.search.prediction_threshold, 0.5);
  EXPECT_EQ(hf::combination_count(config.search.axes), std::optional<std::uint64_t>(1024));
  ASSERT_EQ(config.search.axes.size(), static_cast<std::size_t>(hf::kHyperparameterCount));
  for (int k = 0; k < hf::kHyperparameterCount; ++k) {
    EXPECT_EQ(config.search.axes[static_cast<std::size_t>(k)].key, static_cast<hf::Hyperparameter>(k));
  }
  EXPECT_EQ(axis_texts(config)[0], (std::vector<std::string>{"learning_rate", "0.001", "0.0005"}));
  EXPECT_EQ(axis_texts(config)[3],
            (std::vector<std::string>{"hidden_layers", "[2, 3, 2, 1, 0.5]", "[2, 3, 2, 1, 0.5, 0.25]"}));
  EXPECT_EQ(
      hf::choose_combinations(config.search.axes, true, config.search.combinations_to_try, config.search.seed).size(),
      1024u);
}

TEST(ConfigLoad, RepositoryRandomConfigSamplesALargeSpace) {
  const hf::SearchConfig config = hf::load_search_config(hf::testing::source_dir() / "configs" / "random.toml");
  EXPECT_FALSE(config.search.explore_all_combinations);
  EXPECT_EQ(config.search.combinations_to_try, 40u);
  EXPECT_EQ(config.search.seed, 7u);
  EXPECT_EQ(hf::combination_count(config.search.axes),
            std::optional<std::uint64_t>(4 * 2 * 3 * 4 * 5 * 9 * 5 * 3 * 2 * 2 * 5));
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::L1Regularization).values[1].text, "1e-05");
  EXPECT_EQ(
      hf::choose_combinations(config.search.axes, false, config.search.combinations_to_try, config.search.seed).size(),
      40u);
}

// ---------------------------------------------------------------------------------------------
// Errors: one case per kind of mistake, each checked for file, line, key and hint.

struct ErrorCase {
  const char* name;
  const char* toml;
  int line;
  std::vector<std::string> fragments;
  std::vector<std::string> unwanted;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class ConfigError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigError, NamesFileLineKeyAndHint) {
  const ErrorCase& c = GetParam();
  EXPECT_TRUE(fails_at(c.toml, c.line, c.fragments, c.unwanted));
}

std::string case_name(const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; }

const char* const kLossChoices = "valid names are: BCE, MSE, Huber, SmoothL1, L1";
const char* const kActivationChoices =
    "valid names are: ELU, Hardshrink, Hardsigmoid, Hardtanh, Hardswish, LeakyReLU, LogSigmoid, PReLU, ReLU, "
    "ReLU6, RReLU, SELU, CELU, GELU, Sigmoid, SiLU, Mish, Softplus, Softshrink, Softsign, Tanh, Tanhshrink, "
    "Softmin, Softmax, LogSoftmax";
const char* const kOptimizerChoices = "valid names are: SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Adadelta";
const char* const kInitChoices =
    "valid names are: xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal, orthogonal, normal, uniform";
const char* const kTopLevelChoices = "valid keys are: data, search, execution, output, hyperparameters";
const char* const kHyperparameterChoices =
    "valid keys are: learning_rate, max_epochs, batch_size, hidden_layers, loss_function, activation_function, "
    "optimizer, dropout, l1_regularization, l2_regularization, weight_initialization";

INSTANTIATE_TEST_SUITE_P(
    ConfigSyntax, ConfigError,
    ::testing::Values(
        ErrorCase{"MissingValue",
                  "[search]\nrerun_count = 2\nseed = \n",
                  3,
                  {"TOML syntax error", "expected value", "write key = value"},
                  {}},
        ErrorCase{"UnterminatedString", "[data]\n\ntrain = \"train.csv\ntest = \"x\"\n", 3, {"TOML syntax error"}, {}},
        ErrorCase{"DuplicateKey",
                  "[search]\nseed = 1\nrerun_count = 2\nseed = 2\n",
                  4,
                  {"TOML syntax error", "seed", "redefine", "may appear only once"},
                  {}},
        ErrorCase{"DuplicateHyperparameterKey",
                  "[hyperparameters]\nbatch_size = [32]\nlearning_rate = [0.1]\nbatch_size = [64]\n",
                  4,
                  {"TOML syntax error", "batch_size", "redefine", "remove the second one"},
                  {}},
        ErrorCase{"UnclosedList",
                  "[hyperparameters]\nlearning_rate = [0.1\n",
                  2,
                  {"TOML syntax error", "end-of-file", "not closed: check the brackets"},
                  {}},
        ErrorCase{
            "NotUtf8", "[data]\ntrain = \"\xff.csv\"\n", 2, {"TOML syntax error", "save the config as UTF-8"}, {}},
        ErrorCase{"DuplicateTable",
                  "[search]\nseed = 1\n\n[search]\nrerun_count = 2\n",
                  4,
                  {"TOML syntax error", "search", "may appear only once"},
                  {}}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    ConfigUnknownKey, ConfigError,
    ::testing::Values(
        ErrorCase{"TopLevelTable",
                  "[data]\ntrain = \"a.csv\"\n\n[serch]\nseed = 1\n",
                  4,
                  {"unknown key 'serch'", "did you mean 'search'?", kTopLevelChoices},
                  {}},
        ErrorCase{"TopLevelKeyWithoutCloseMatch",
                  "# comment\nverbose = true\n",
                  2,
                  {"top level", "unknown key 'verbose'", kTopLevelChoices},
                  {"did you mean"}},
        ErrorCase{"Data",
                  "[data]\ntrain = \"a.csv\"\ntset = \"b.csv\"\n",
                  3,
                  {"[data]", "unknown key 'tset'", "did you mean 'test'?",
                   "valid keys are: train, test, validation, embargo_rows, shuffle"},
                  {}},
        ErrorCase{"Search",
                  "[search]\nrerun_count = 2\nnumber_of_combinations = 10\n",
                  3,
                  {"[search]", "unknown key 'number_of_combinations'", "did you mean 'number_of_combinations_to_try'?",
                   "valid keys are: explore_all_combinations, number_of_combinations_to_try, rerun_count, seed, "
                   "prediction_threshold, permutations, permutation_block, strategy, min_epochs, reduction_factor"},
                  {}},
        ErrorCase{
            "Execution",
            "[search]\nseed = 1\n[execution]\ndevices = \"cpu\"\n",
            4,
            {"[execution]", "unknown key 'devices'", "did you mean 'device'?", "valid keys are: device, cpu_count"},
            {}},
        ErrorCase{"Output",
                  "[output]\ndirectory = \"out\"\n",
                  2,
                  {"[output]", "unknown key 'directory'", "valid keys are: dir"},
                  {"did you mean"}},
        ErrorCase{"OutputClose",
                  "[output]\ndirs = \"out\"\n",
                  2,
                  {"[output]", "unknown key 'dirs'", "did you mean 'dir'?"},
                  {}},
        ErrorCase{
            "Hyperparameters",
            "[hyperparameters]\nlearning_rate = [0.1]\n\nbatch_sizes = [32]\n",
            4,
            {"[hyperparameters]", "unknown key 'batch_sizes'", "did you mean 'batch_size'?", kHyperparameterChoices},
            {}},
        ErrorCase{"HyperparametersFarFromAnyKey",
                  "[hyperparameters]\nmomentum = [0.9]\n",
                  2,
                  {"[hyperparameters]", "unknown key 'momentum'", kHyperparameterChoices},
                  {"did you mean"}}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    ConfigWrongType, ConfigError,
    ::testing::Values(
        ErrorCase{"StringWhereNumber",
                  "[hyperparameters]\nlearning_rate = [0.1, \"0.01\"]\n",
                  2,
                  {"learning_rate", "must be a number", "the string \"0.01\""},
                  {}},
        ErrorCase{"StringThreshold",
                  "[search]\nseed = 3\nprediction_threshold = \"0.5\"\n",
                  3,
                  {"prediction_threshold", "must be a number", "the string \"0.5\"", "write it without quotes: 0.5"},
                  {}},
        ErrorCase{"FloatWhereInteger",
                  "[search]\nseed = 3\nrerun_count = 2.5\n",
                  3,
                  {"rerun_count", "must be a whole number", "the number 2.5"},
                  {}},
        ErrorCase{"FloatBatchSize",
                  "[hyperparameters]\nbatch_size = [32, 64.0]\n",
                  2,
                  {"batch_size", "must be a whole number", "the number 64.0"},
                  {}},
        ErrorCase{"StringSeed",
                  "[search]\nseed = \"42\"\n",
                  2,
                  {"seed", "must be a whole number", "the string \"42\"", "write it without quotes: 42"},
                  {}},
        ErrorCase{"ScalarWhereList",
                  "[hyperparameters]\nlearning_rate = [0.1]\nbatch_size = 32\n",
                  3,
                  {"batch_size", "must be a list of values", "batch_size = [32, 64]", "not the integer 32"},
                  {}},
        ErrorCase{"FlatHiddenLayers",
                  "[hyperparameters]\nhidden_layers = [2, 3, 2, 1, 0.5]\n",
                  2,
                  {"hidden_layers", "list of lists", "hidden_layers = [[2, 3, 2, 1, 0.5]]", "not the integer 2"},
                  {}},
        ErrorCase{"NonTableData",
                  "data = \"train.csv\"\n",
                  1,
                  {"'data' must be a table", "[data]", "the string \"train.csv\""},
                  {}},
        ErrorCase{
            "ArrayOfTablesSearch", "[[search]]\nseed = 1\n", 1, {"'search' must be a table", "[search]", "a list"}, {}},
        ErrorCase{"NonBooleanShuffle",
                  "[data]\nshuffle = \"yes\"\n",
                  2,
                  {"shuffle", "must be true or false"},
                  {"without quotes"}},
        ErrorCase{"QuotedBoolean",
                  "[data]\nshuffle = \"true\"\n",
                  2,
                  {"shuffle", "must be true or false", "write it without quotes: true"},
                  {}},
        ErrorCase{"QuotedListNumbers",
                  "[hyperparameters]\nbatch_size = [32, \"64\"]\nlearning_rate = [\"1e-3\"]\n",
                  2,
                  {"batch_size", "must be a whole number", "write it without quotes: 64"},
                  {}},
        ErrorCase{"QuotedWordIsNotUnquoted",
                  "[search]\nseed = \"forty\"\n",
                  2,
                  {"seed", "must be a whole number"},
                  {"without quotes"}},
        ErrorCase{"NonBooleanExplore",
                  "[search]\nexplore_all_combinations = 1\n",
                  2,
                  {"explore_all_combinations", "must be true or false", "the integer 1"},
                  {}},
        ErrorCase{"NonStringPath", "[data]\ntrain = 5\n", 2, {"train", "must be a quoted string", "the integer 5"}, {}},
        ErrorCase{
            "NonStringDevice", "[execution]\ndevice = true\n", 2, {"device", "must be a quoted string", "true"}, {}},
        ErrorCase{"NonStringOptimizer",
                  "[hyperparameters]\noptimizer = [\"Adam\", 1]\n",
                  2,
                  {"optimizer", "must be a quoted name", "the integer 1", kOptimizerChoices},
                  {}},
        ErrorCase{"EmptyPath", "[data]\ntest = \"a.csv\"\ntrain = \"\"\n", 3, {"train", "must not be empty"}, {}},
        ErrorCase{"EmptyList",
                  "[hyperparameters]\nlearning_rate = [0.1]\ndropout = []\n",
                  3,
                  {"dropout", "the list is empty", "dropout = [0.0, 0.2]", "remove the key"},
                  {}},
        ErrorCase{"EmptyNameList",
                  "[hyperparameters]\nactivation_function = []\n",
                  2,
                  {"activation_function", "the list is empty", "remove the key"},
                  {}}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    ConfigOutOfRange, ConfigError,
    ::testing::Values(ErrorCase{"LearningRateZero",
                                "[hyperparameters]\nlearning_rate = [0.001, 0.0]\n",
                                2,
                                {"learning_rate", "0.0 is out of range", "above 0 and at most 10"},
                                {}},
                      ErrorCase{"LearningRateNegative",
                                "[hyperparameters]\nbatch_size = [32]\nlearning_rate = [-0.001]\n",
                                3,
                                {"learning_rate", "-0.001 is out of range", "above 0"},
                                {}},
                      ErrorCase{"LearningRateHuge",
                                "[hyperparameters]\nlearning_rate = [\n  0.01,\n  1e9,\n]\n",
                                4,
                                {"learning_rate", "1000000000.0 is out of range", "at most 10"},
                                {}},
                      ErrorCase{"LearningRateNotFinite",
                                "[hyperparameters]\nlearning_rate = [inf]\n",
                                2,
                                {"learning_rate", "inf is not a finite number"},
                                {}},
                      ErrorCase{"DropoutOne",
                                "[hyperparameters]\ndropout = [0.0, 1.0]\n",
                                2,
                                {"dropout", "1.0 is out of range", "probability", "not including"},
                                {}},
                      ErrorCase{"DropoutNegative",
                                "[hyperparameters]\ndropout = [-0.1]\n",
                                2,
                                {"dropout", "-0.1 is out of range", "e.g. 0.2"},
                                {}},
                      ErrorCase{"BatchSizeZero",
                                "[hyperparameters]\nbatch_size = [0]\n",
                                2,
                                {"batch_size", "0 is out of range", "from 1 to 1000000"},
                                {}},
                      ErrorCase{"MaxEpochsZero",
                                "[hyperparameters]\nmax_epochs = [8, 0]\n",
                                2,
                                {"max_epochs", "0 is out of range", "from 1 to 100000"},
                                {}},
                      ErrorCase{"MaxEpochsTooMany",
                                "[hyperparameters]\nmax_epochs = [100001]\n",
                                2,
                                {"max_epochs", "100001 is out of range", "from 1 to 100000"},
                                {}},
                      ErrorCase{"L1Negative",
                                "[hyperparameters]\nl1_regularization = [0.0, -0.0001]\n",
                                2,
                                {"l1_regularization", "-0.0001 is out of range", "0 (off)"},
                                {}},
                      ErrorCase{"L2Negative",
                                "[hyperparameters]\nl2_regularization = [-1e-5]\n",
                                2,
                                {"l2_regularization", "-1e-05 is out of range", "0 (off)"},
                                {}},
                      ErrorCase{"HiddenMultipleZero",
                                "[hyperparameters]\nhidden_layers = [\n  [2, 1],\n  [2, 0],\n]\n",
                                4,
                                {"hidden_layers", "layer width multiple 0 is out of range", "above 0 and at most 1000"},
                                {}},
                      ErrorCase{"HiddenMultipleNegative",
                                "[hyperparameters]\nhidden_layers = [[2, -0.5]]\n",
                                2,
                                {"hidden_layers", "layer width multiple -0.5 is out of range"},
                                {}},
                      ErrorCase{"HiddenMultipleNotANumber",
                                "[hyperparameters]\nhidden_layers = [[2, \"wide\"]]\n",
                                2,
                                {"hidden_layers", "must be a number", "the string \"wide\""},
                                {}},
                      ErrorCase{"RerunCountZero",
                                "[search]\nseed = 1\nrerun_count = 0\n",
                                3,
                                {"rerun_count", "0 is out of range", "from 1 to 1000"},
                                {}},
                      ErrorCase{"RerunCountTooMany",
                                "[search]\nrerun_count = 1001\n",
                                2,
                                {"rerun_count", "1001 is out of range", "from 1 to 1000"},
                                {}},
                      ErrorCase{"CombinationsToTryZero",
                                "[search]\nexplore_all_combinations = false\nnumber_of_combinations_to_try = 0\n",
                                3,
                                {"number_of_combinations_to_try", "0 is out of range", "from 1 to 1000000"},
                                {}},
                      ErrorCase{"ThresholdZero",
                                "[search]\nprediction_threshold = 0.0\n",
                                2,
                                {"prediction_threshold", "0.0 is out of range", "between 0 and 1 (exclusive)"},
                                {}},
                      ErrorCase{"ThresholdOne",
                                "[search]\nseed = 5\n\nprediction_threshold = 1.0\n",
                                4,
                                {"prediction_threshold", "1.0 is out of range", "between 0 and 1 (exclusive)"},
                                {}},
                      ErrorCase{"ThresholdNotANumber",
                                "[search]\nprediction_threshold = nan\n",
                                2,
                                {"prediction_threshold", "nan is out of range"},
                                {}},
                      ErrorCase{"SeedNegative",
                                "[search]\nseed = -1\n",
                                2,
                                {"seed", "-1 is out of range", "from 0 to 9223372036854775807"},
                                {}},
                      ErrorCase{"CpuCountNegative",
                                "[execution]\ndevice = \"cpu\"\ncpu_count = -1\n",
                                3,
                                {"cpu_count", "-1 is out of range", "from 0 to 4096"},
                                {}}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    ConfigUnknownName, ConfigError,
    ::testing::Values(ErrorCase{"Loss",
                                "[hyperparameters]\nloss_function = [\"BCE\", \"CrossEntropy\"]\n",
                                2,
                                {"loss_function", "unknown name \"CrossEntropy\"", kLossChoices},
                                {"did you mean"}},
                      ErrorCase{"ActivationCloseToReLU",
                                "\n\n[hyperparameters]\nactivation_function = [\"Tanh\",\n  \"Relu\"]\n",
                                5,
                                {"activation_function", "unknown name \"Relu\"", "did you mean \"ReLU\"?",
                                 kActivationChoices},
                                {}},
                      ErrorCase{"OptimizerWrongCase",
                                "[hyperparameters]\noptimizer = [\"adam\"]\n",
                                2,
                                {"optimizer", "unknown name \"adam\"", "did you mean \"Adam\"?", kOptimizerChoices},
                                {}},
                      ErrorCase{"OptimizerUnknown",
                                "[hyperparameters]\noptimizer = [\"LBFGS\"]\n",
                                2,
                                {"optimizer", "unknown name \"LBFGS\"", kOptimizerChoices},
                                {}},
                      ErrorCase{"WeightInitialization",
                                "[hyperparameters]\nweight_initialization = [\"Xavier_Uniform\"]\n",
                                2,
                                {"weight_initialization", "unknown name \"Xavier_Uniform\"",
                                 "did you mean \"xavier_uniform\"?", kInitChoices},
                                {}},
                      ErrorCase{"WeightInitializationFar",
                                "[hyperparameters]\nweight_initialization = [\"kaiming\"]\n",
                                2,
                                {"weight_initialization", "unknown name \"kaiming\"", kInitChoices},
                                {}},
                      ErrorCase{"Device",
                                "[execution]\ncpu_count = 2\ndevice = \"gpu\"\n",
                                3,
                                {"device", "unknown device \"gpu\"", "valid devices are: auto, cpu, cuda"},
                                {}}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    ConfigDuplicateValue, ConfigError,
    ::testing::Values(ErrorCase{"LearningRateSameText",
                                "[hyperparameters]\nlearning_rate = [\n  0.001,\n  0.0005,\n  0.001,\n]\n",
                                5,
                                {"learning_rate", "0.001 is listed twice", "also at line 3", "remove one"},
                                {}},
                      ErrorCase{"LearningRateSameNumberOtherSpelling",
                                "[hyperparameters]\nlearning_rate = [0.001, 1e-3]\n",
                                2,
                                {"learning_rate", "0.001 is listed twice", "also at line 2"},
                                {}},
                      ErrorCase{"Activation",
                                "[hyperparameters]\nactivation_function = [\"ReLU\", \"Tanh\", \"ReLU\"]\n",
                                2,
                                {"activation_function", "ReLU is listed twice", "remove one"},
                                {}},
                      ErrorCase{"HiddenLayers",
                                "[hyperparameters]\nhidden_layers = [[2, 1], [1], [2, 1]]\n",
                                2,
                                {"hidden_layers", "[2, 1] is listed twice", "remove one"},
                                {}},
                      ErrorCase{"BatchSize",
                                "[hyperparameters]\nbatch_size = [32, 64, 32]\n",
                                2,
                                {"batch_size", "32 is listed twice", "remove one"},
                                {}}),
    case_name);

// Regression: duplicates were once found by comparing texts, so 0 and 0.0 (or [2, 1] and
// [2.0, 1.0]) passed and the grid trained every such combination twice.
INSTANTIATE_TEST_SUITE_P(ConfigDuplicateValueIntegerAndFloat, ConfigError,
                         ::testing::Values(ErrorCase{"Dropout",
                                                     "[hyperparameters]\ndropout = [0, 0.0]\n",
                                                     2,
                                                     {"dropout", "is listed twice", "remove one"},
                                                     {}},
                                           ErrorCase{"LearningRate",
                                                     "[hyperparameters]\nlearning_rate = [1, 1.0]\n",
                                                     2,
                                                     {"learning_rate", "is listed twice", "remove one"},
                                                     {}},
                                           ErrorCase{"HiddenLayers",
                                                     "[hyperparameters]\nhidden_layers = [[2, 1], [2.0, 1.0]]\n",
                                                     2,
                                                     {"hidden_layers", "is listed twice", "remove one"},
                                                     {}}),
                         case_name);

TEST(ConfigErrorColumn, PointsAtTheOffendingValueNotJustItsLine) {
  // Columns are 1-based, as editors count them.
  EXPECT_TRUE(fails_at("[hyperparameters]\nlearning_rate = [0.001, 0.0]\n", 2, {"learning_rate"}, {}, 25));
  EXPECT_TRUE(fails_at("[hyperparameters]\nhidden_layers = [\n  [2, 1],\n  [2, 0],\n]\n", 4, {"multiple 0"}, {}, 7));
  EXPECT_TRUE(fails_at("[search]\nrerun_count = 0\n", 2, {"rerun_count"}, {}, 15));
  EXPECT_TRUE(fails_at("[hyperparameters]\n  batch_sizes = [32]\n", 2, {"batch_sizes"}, {}, 3));
}

TEST(ConfigErrorFile, MissingFileNamesThePathAndTheDefault) {
  const fs::path path = hf::testing::scratch_dir("missing") / "no_such_config.toml";
  try {
    hf::load_search_config(path);
    FAIL() << "loaded a file that does not exist";
  } catch (const hf::InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << message;
    EXPECT_NE(message.find("cannot open the config file"), std::string::npos) << message;
    EXPECT_NE(message.find("configs/default.toml"), std::string::npos) << message;
  }
}

// Regression: std::ifstream opens a folder on Linux, so a folder once loaded as an empty config.
TEST(ConfigErrorFile, AFolderIsNotAConfig) {
  const fs::path folder = hf::testing::scratch_dir("folder");
  EXPECT_THROW(hf::load_search_config(folder), hf::InputError);
}

// ---------------------------------------------------------------------------------------------
// Grid size limit

// A [hyperparameters] table with `learning_rates` learning rates and `batch_sizes` batch sizes.
std::string big_space(int learning_rates, int batch_sizes) {
  std::string lr, batch;
  for (int i = 1; i <= learning_rates; ++i) lr += (i > 1 ? ", " : "") + std::to_string(i) + "e-6";
  for (int i = 1; i <= batch_sizes; ++i) batch += (i > 1 ? ", " : "") + std::to_string(i);
  return "[hyperparameters]\nlearning_rate = [" + lr + "]\nbatch_size = [" + batch + "]\n";
}

TEST(ConfigGridLimit, TooLargeGridSaysTheCountAndSuggestsRandomSearch) {
  const std::string space = big_space(1001, 1000);
  EXPECT_TRUE(fails_at("[search]\nseed = 1\nexplore_all_combinations = true\n\n" + space, 3,
                       {"[search]", "1001000 combinations", "more than the 1000000", "explore_all_combinations = false",
                        "number_of_combinations_to_try"}));
  // Without the key, the message points at the [hyperparameters] table.
  EXPECT_TRUE(
      fails_at("# grid by default\n\n" + space, 3, {"1001000 combinations", "explore_all_combinations = false"}));
}

TEST(ConfigGridLimit, SameSpaceAsRandomSearchLoads) {
  const hf::SearchConfig config = load_text(
      "[search]\nexplore_all_combinations = false\nnumber_of_combinations_to_try = 50\n" + big_space(1001, 1000));
  EXPECT_FALSE(config.search.explore_all_combinations);
  EXPECT_EQ(hf::combination_count(config.search.axes), std::optional<std::uint64_t>(1001000));
  const std::vector<std::uint64_t> chosen = hf::choose_combinations(config.search.axes, false, 50, config.search.seed);
  EXPECT_EQ(chosen.size(), 50u);
}

TEST(ConfigGridLimit, ExactlyTheLimitIsAllowed) {
  const hf::SearchConfig config = load_text(big_space(1000, 1000));
  EXPECT_TRUE(config.search.explore_all_combinations);
  EXPECT_EQ(hf::combination_count(config.search.axes), std::optional<std::uint64_t>(hf::kMaxCombinations));
}

TEST(ConfigGridLimit, RepositoryRandomSpaceIsTooLargeForAGrid) {
  const fs::path random = hf::testing::source_dir() / "configs" / "random.toml";
  const hf::SearchConfig config = hf::load_search_config(random);
  ASSERT_GT(hf::combination_count(config.search.axes).value(), hf::kMaxCombinations);
  // The same file with explore_all_combinations = true is refused at that key's line.
  std::string text;
  {
    std::ifstream in(random);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  const std::string from = "explore_all_combinations = false";
  const std::size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
  text.replace(at, from.size(), "explore_all_combinations = true");
  EXPECT_TRUE(fails_at(text, line, {"1296000 combinations", "explore_all_combinations = false"}));
}

TEST(ConfigGridLimit, SpaceBeyond64BitsIsRefusedForGridAndRandomSearch) {
  // Seven numeric axes of 1000 values: 10^21 combinations, more than 2^64.
  std::string axes = "[hyperparameters]\n";
  const char* keys[] = {"learning_rate", "max_epochs",        "batch_size",
                        "dropout",       "l1_regularization", "l2_regularization"};
  for (const char* key : keys) {
    axes += std::string(key) + " = [";
    for (int i = 1; i <= 1000; ++i) {
      const bool integer = std::string(key) == "max_epochs" || std::string(key) == "batch_size";
      axes += (i > 1 ? ", " : "") + std::to_string(i) + (integer ? "" : "e-4");
    }
    axes += "]\n";
  }
  axes += "hidden_layers = [";
  for (int i = 1; i <= 1000; ++i) axes += (i > 1 ? ", [" : "[") + std::to_string(i) + "]";
  axes += "]\n";

  for (const char* grid : {"true", "false"}) {
    EXPECT_TRUE(fails_at(std::string("[search]\nexplore_all_combinations = ") + grid + "\n" + axes, 3,
                         {"more than 2^64 combinations", "list fewer values"}));
  }
}

INSTANTIATE_TEST_SUITE_P(
    ConfigGpus, ConfigError,
    ::testing::Values(
        ErrorCase{"GpusNumber", "[execution]\ngpus = 1\n", 2, {"[execution] gpus", "not the integer 1", "[0, 1]"}, {}},
        ErrorCase{"GpusWord", "[execution]\ngpus = \"every\"\n", 2, {"gpus", "unknown value \"every\"", "\"all\""}, {}},
        ErrorCase{"GpusEmpty", "[execution]\ngpus = []\n", 2, {"gpus", "the list is empty", "gpus = \"all\""}, {}},
        ErrorCase{"GpusNegative", "[execution]\ngpus = [0, -1]\n", 2, {"gpus", "-1 is not a device id", "from 0"}, {}},
        ErrorCase{"GpusText", "[execution]\ngpus = [\"0\"]\n", 2, {"gpus", "whole numbers", "the string \"0\""}, {}},
        ErrorCase{"GpusTwice",
                  "[execution]\ngpus = [\n  1,\n  0,\n  1,\n]\n",
                  5,
                  {"gpus", "device 1 is listed twice", "also at line 3", "remove one"},
                  {}}),
    case_name);

}  // namespace

// ---------------------------------------------------------------------------------------------
// Regressions found by fuzz/config_loader_fuzzer (inputs also in fuzz/corpus/config/)

// An integer that a double cannot hold exactly left TOML++'s value<double>() empty, and the
// loader threw std::bad_optional_access: exit 1 ("runtime failure") instead of a located error.
TEST(ConfigFuzzRegression, IntegerBeyondDoublePrecisionIsRangeCheckedLikeAnyNumber) {
  EXPECT_TRUE(
      fails_at("[search]\nexplore_all_combinations = false\nnumber_of_combinations_to_try = 2\n\n"
               "[hyperparameters]\nlearning_rate = [1, 8.01, 5555555555555550001]\n",
               6, {"learning_rate", "5555555555555550001 is out of range", "at most 10"}, {}, 27));
  EXPECT_TRUE(fails_at("[search]\nprediction_threshold = 9007199254740993\n", 2,
                       {"prediction_threshold", "out of range", "between 0 and 1"}));
  EXPECT_TRUE(fails_at("[hyperparameters]\nhidden_layers = [[2, 9007199254740993]]\n", 2,
                       {"layer width multiple 9007199254740993 is out of range", "at most 1000"}));
  EXPECT_TRUE(fails_at("[hyperparameters]\ndropout = [-9007199254740993]\n", 2,
                       {"dropout", "-9007199254740993 is out of range"}));
}

// A long list is checked for repeats by value (a map), not by comparing every pair: 100,000
// values load, and a repeat at the end still names the line of the first.
TEST(ConfigLongList, HundredThousandValuesLoadAndARepeatAtTheEndIsFound) {
  std::string values;
  for (int i = 1; i <= 100000; ++i) values += (i > 1 ? ",\n" : "") + std::to_string(i);
  const std::string head = "[search]\nexplore_all_combinations = false\n\n[hyperparameters]\nmax_epochs = [\n";
  const hf::SearchConfig config = load_text(head + values + "\n]\n");
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::MaxEpochs).values.size(), 100000u);
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::MaxEpochs).values.back().text, "100000");
  // The values start on line 6, so 7 is on line 12; its repeat is on line 100006.
  EXPECT_TRUE(fails_at(head + values + ",\n7\n]\n", 100006, {"max_epochs", "7 is listed twice (also at line 12)"}));
}

namespace {

// [data] validation and embargo_rows, [search] permutations and permutation_block.
TEST(ConfigValidation, AFractionAFileOrNeither) {
  const hf::SearchConfig none = load_text("[data]\ntrain = \"t.csv\"\n");
  EXPECT_FALSE(none.has_validation());
  EXPECT_EQ(none.embargo_rows, 0);
  EXPECT_EQ(none.permutations, 1000);
  EXPECT_EQ(none.permutation_block, 1);

  const hf::SearchConfig fraction =
      load_text("[data]\nvalidation = 0.2\nembargo_rows = 10\n[search]\npermutations = 0\npermutation_block = 20\n");
  EXPECT_TRUE(fraction.has_validation());
  EXPECT_EQ(fraction.validation_fraction, 0.2);
  EXPECT_TRUE(fraction.validation_path.empty());
  EXPECT_EQ(fraction.embargo_rows, 10);
  EXPECT_EQ(fraction.permutations, 0);
  EXPECT_EQ(fraction.permutation_block, 20);
  EXPECT_EQ(fraction.validation_where, (fraction.source.string() + ":2:14"));

  const hf::SearchConfig file = load_text("[data]\nvalidation = \"data/val.csv\"\n");
  EXPECT_TRUE(file.has_validation());
  EXPECT_EQ(file.validation_fraction, 0.0);
  EXPECT_EQ(file.validation_path, file.source.parent_path() / "data" / "val.csv");
}

TEST(ConfigValidation, MistakesNameTheLineAndSayWhatToWrite) {
  EXPECT_TRUE(fails_at("[data]\nvalidation = 1.0\n", 2,
                       {"[data] validation: 1.0 is out of range", "between 0 and 1", "0.2 holds out the last 20%"}));
  EXPECT_TRUE(fails_at("[data]\nvalidation = 0\n", 2, {"[data] validation: 0 is out of range"}));
  EXPECT_TRUE(fails_at("[data]\nvalidation = true\n", 2,
                       {"[data] validation: must be a number or a quoted path, not true", "e.g. validation = 0.2"}));
  EXPECT_TRUE(fails_at("[data]\nvalidation = \"\"\n", 2, {"[data] validation: must not be empty"}));
  EXPECT_TRUE(fails_at("[data]\n\nembargo_rows = 10\n", 3,
                       {"[data] embargo_rows: only means something with a validation set", "set [data] validation"}));
  EXPECT_TRUE(fails_at("[data]\nvalidation = 0.2\nembargo_rows = -1\n", 3,
                       {"[data] embargo_rows: -1 is out of range", "from 0 to"}));
  EXPECT_TRUE(
      fails_at("[search]\npermutations = -5\n", 2, {"[search] permutations: -5 is out of range", "from 0 to 1000000"}));
  EXPECT_TRUE(
      fails_at("[search]\npermutation_block = 0\n", 2, {"[search] permutation_block: 0 is out of range", "from 1"}));
  EXPECT_TRUE(fails_at("[search]\npermutations = 0.5\n", 2, {"[search] permutations: must be a whole number"}));
}

// ---------------------------------------------------------------------------------------------
// Ranges in random search, and [search] strategy.

const hf::HyperparameterRange& range_of(const hf::SearchConfig& config, hf::Hyperparameter key) {
  const hf::HyperparameterAxis& axis = axis_of(config, key);
  if (!axis.range) throw std::logic_error(std::string(hf::key_name(key)) + " is not a range");
  return *axis.range;
}

TEST(ConfigRange, EveryKindItsHyperparameterTakesIsRead) {
  const hf::SearchConfig config = load_text(R"([search]
strategy = "random"
number_of_combinations_to_try = 20
[hyperparameters]
learning_rate = { log_uniform = [1e-5, 0.1] }
dropout = { uniform = [0.0, 0.5] }
max_epochs = { int_uniform = [2, 16] }
batch_size = { choice = [32, 64, 128] }
l2_regularization = { uniform = [0, 1e-3] }
activation_function = { choice = ["ReLU", "Tanh"] }
)");
  EXPECT_EQ(config.search.strategy, hf::SearchStrategy::Random);
  EXPECT_FALSE(config.search.explore_all_combinations);
  EXPECT_TRUE(config.search.has_ranges());
  const hf::HyperparameterRange& rate = range_of(config, hf::Hyperparameter::LearningRate);
  EXPECT_EQ(rate.kind, hf::RangeKind::LogUniform);
  EXPECT_EQ(rate.low, 1e-5);
  EXPECT_EQ(rate.high, 0.1);
  EXPECT_EQ(rate.text(), "{ log_uniform = [1e-05, 0.1] }");
  EXPECT_EQ(range_of(config, hf::Hyperparameter::Dropout).kind, hf::RangeKind::Uniform);
  EXPECT_EQ(range_of(config, hf::Hyperparameter::L2Regularization).text(), "{ uniform = [0.0, 0.001] }");
  const hf::HyperparameterRange& epochs = range_of(config, hf::Hyperparameter::MaxEpochs);
  EXPECT_EQ(epochs.kind, hf::RangeKind::IntUniform);
  EXPECT_EQ(epochs.text(), "{ int_uniform = [2, 16] }");
  EXPECT_TRUE(axis_of(config, hf::Hyperparameter::MaxEpochs).values.empty());
  // A choice is a list: its values, as a list writes them.
  const hf::HyperparameterAxis& batch = axis_of(config, hf::Hyperparameter::BatchSize);
  EXPECT_FALSE(batch.range);
  ASSERT_EQ(batch.values.size(), 3u);
  EXPECT_EQ(batch.values[2].text, "128");
  EXPECT_EQ(axis_of(config, hf::Hyperparameter::ActivationFunction).values[1].text, "Tanh");
}

TEST(ConfigRange, AChoiceIsTheListItWritesInAnySearch) {
  const hf::SearchConfig choice =
      load_text("[hyperparameters]\noptimizer = { choice = [\"Adam\", \"SGD\"] }\nbatch_size = { choice = [16, 8] }\n");
  const hf::SearchConfig list = load_text("[hyperparameters]\noptimizer = [\"Adam\", \"SGD\"]\nbatch_size = [16, 8]\n");
  EXPECT_EQ(choice.search.strategy, hf::SearchStrategy::Grid);
  EXPECT_FALSE(choice.search.has_ranges());
  EXPECT_EQ(axis_texts(choice), axis_texts(list));
}

INSTANTIATE_TEST_SUITE_P(
    ConfigRange, ConfigError,
    ::testing::Values(
        ErrorCase{"UnknownKind",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\nlearning_rate = { loguniform = [1e-4, 0.1] }\n",
                  4,
                  {"[hyperparameters] learning_rate: unknown range 'loguniform'", "did you mean 'log_uniform'?",
                   "uniform, log_uniform, int_uniform, choice",
                   "learning_rate takes { uniform = [a, b] } or { log_uniform = [a, b] } or { choice = [...] }"},
                  {}},
        ErrorCase{"TwoKinds",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\n"
                  "learning_rate = { uniform = [0.1, 0.2], log_uniform = [0.1, 0.2] }\n",
                  4,
                  {"learning_rate: a range names exactly one kind", "not 2 keys"},
                  {}},
        ErrorCase{"EmptyTable",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\noptimizer = {}\n",
                  4,
                  {"optimizer: a range names exactly one kind", "optimizer = { choice = [\"Adam\", \"RMSprop\"] }",
                   "not 0 keys"},
                  {}},
        ErrorCase{"WholeNumbersForARealNumber",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\nlearning_rate = { int_uniform = [1, 3] }\n",
                  4,
                  {"int_uniform draws whole numbers, but learning_rate takes any number in its range",
                   "use { uniform = [a, b] } or { log_uniform = [a, b] }"},
                  {}},
        ErrorCase{"RealNumbersForAWholeNumber",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\nbatch_size = { log_uniform = [16, 256] }\n",
                  4,
                  {"batch_size takes whole numbers; use { int_uniform = [a, b] }"},
                  {}},
        ErrorCase{"NamesFromARange",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\nactivation_function = { uniform = [0, 1] }\n",
                  4,
                  {"activation_function cannot be drawn from a range; list its values",
                   "a random search draws from a list too"},
                  {}},
        ErrorCase{"LayerListsFromARange",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\nhidden_layers = { uniform = [1, 2] }\n",
                  4,
                  {"hidden_layers cannot be drawn from a range", "hidden_layers = [[2, 3, 2, 1, 0.5]]"},
                  {}},
        ErrorCase{"BoundsNotAList",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\ndropout = { uniform = 0.5 }\n",
                  4,
                  {"dropout: uniform needs two bounds, the lowest and the highest value to draw",
                   "dropout = { uniform = [a, b] } with a below b", "not the number 0.5"},
                  {}},
        ErrorCase{"ThreeBounds",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\ndropout = { uniform = [0.0, 0.1, 0.2] }\n",
                  4,
                  {"uniform needs two bounds", "not a list of 3 values"},
                  {}},
        ErrorCase{"QuotedBound",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\ndropout = { uniform = [0.0, \"0.5\"] }\n",
                  4,
                  {"[hyperparameters] dropout: uniform: each value must be a number", "write it without quotes: 0.5"},
                  {}},
        ErrorCase{"FractionalWholeNumberBound",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\nmax_epochs = { int_uniform = [2, 8.5] }\n",
                  4,
                  {"max_epochs: int_uniform: each value must be a whole number", "8.5"},
                  {}},
        ErrorCase{"LowerBoundOutOfRange",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\nlearning_rate = { uniform = [-0.1, 0.1] }\n",
                  4,
                  {"learning_rate: the lower bound -0.1 of uniform is out of range", "a learning rate must be above 0"},
                  {}},
        ErrorCase{"UpperBoundOutOfRange",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\ndropout = { uniform = [0.0, 1.0] }\n",
                  4,
                  {"dropout: the upper bound 1.0 of uniform is out of range",
                   "dropout is a probability from 0 up to (not including) 1"},
                  {}},
        ErrorCase{"WholeNumberBoundOutOfRange",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\nbatch_size = { int_uniform = [0, 64] }\n",
                  4,
                  {"batch_size: the lower bound 0 of int_uniform is out of range", "from 1 to 1000000"},
                  {}},
        ErrorCase{"LogScaleFromZero",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\n"
                  "l2_regularization = { log_uniform = [0.0, 0.01] }\n",
                  4,
                  {"l2_regularization: log_uniform needs a lower bound above 0", "not 0.0",
                   "l2_regularization = { log_uniform = [1e-06, 0.01] }", "use uniform to include 0"},
                  {}},
        ErrorCase{"EqualBounds",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\ndropout = { uniform = [0.2, 0.2] }\n",
                  4,
                  {"the two bounds of uniform are equal (0.2)", "write dropout = [0.2]"},
                  {}},
        ErrorCase{"ReversedBounds",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\n"
                  "learning_rate = { log_uniform = [0.1, 0.0001] }\n",
                  4,
                  {"the lower bound 0.1 of log_uniform is above the upper bound 0.0001",
                   "learning_rate = { log_uniform = [0.0001, 0.1] }"},
                  {}},
        ErrorCase{"RangeInAGrid",
                  "[hyperparameters]\nlearning_rate = { log_uniform = [0.0001, 0.1] }\n",
                  2,
                  {"learning_rate: a range draws values at random, which a grid search cannot enumerate",
                   "list the values to search instead", "strategy = \"random\""},
                  {}},
        ErrorCase{"RangeInAHalvingOfTheGrid",
                  "[search]\nstrategy = \"halving\"\n[hyperparameters]\ndropout = { uniform = [0.0, 0.5] }\n",
                  4,
                  {"this halving's candidates are the whole grid", "explore_all_combinations = false"},
                  {}},
        ErrorCase{"FewerDistinctCombinationsThanAsked",
                  "[search]\nexplore_all_combinations = false\nnumber_of_combinations_to_try = 20\n"
                  "[hyperparameters]\nmax_epochs = { int_uniform = [1, 3] }\noptimizer = [\"Adam\", \"SGD\"]\n",
                  3,
                  {"number_of_combinations_to_try: 20 is more than the 6 distinct combinations",
                   "ask for at most 6, or widen a range"},
                  {}},
        ErrorCase{"EmptyChoice",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\noptimizer = { choice = [] }\n",
                  4,
                  {"optimizer: the list is empty"},
                  {}},
        ErrorCase{"ChoiceWithARepeat",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\noptimizer = { choice = [\"Adam\", \"Adam\"] }\n",
                  4,
                  {"optimizer: Adam is listed twice"},
                  {}},
        ErrorCase{"ChoiceNotAList",
                  "[search]\nstrategy = \"random\"\n[hyperparameters]\noptimizer = { choice = \"Adam\" }\n",
                  4,
                  {"optimizer: must be a list of values", "not the string \"Adam\""},
                  {}}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    ConfigStrategy, ConfigError,
    ::testing::Values(
        ErrorCase{"UnknownStrategy",
                  "[search]\nstrategy = \"halvin\"\n",
                  2,
                  {"[search] strategy: unknown strategy \"halvin\"", "did you mean \"halving\"?",
                   "valid strategies are: grid, random, halving"},
                  {}},
        ErrorCase{"StrategyAgainstExploreAllCombinations",
                  "[search]\nstrategy = \"grid\"\nexplore_all_combinations = false\n",
                  3,
                  {"explore_all_combinations = false asks for a random search, but strategy = \"grid\"",
                   "remove explore_all_combinations"},
                  {}},
        ErrorCase{"MinEpochsWithoutHalving",
                  "[search]\nmin_epochs = 2\n",
                  2,
                  {"[search] min_epochs: only means something in successive halving", "strategy = \"halving\""},
                  {}},
        ErrorCase{"ReductionFactorWithoutHalving",
                  "[search]\nstrategy = \"random\"\nreduction_factor = 2\n",
                  3,
                  {"[search] reduction_factor: only means something in successive halving"},
                  {}},
        ErrorCase{"ReductionFactorOne",
                  "[search]\nstrategy = \"halving\"\nreduction_factor = 1\n",
                  3,
                  {"[search] reduction_factor: 1 is out of range; use a value from 2 to 1000000"},
                  {}},
        ErrorCase{"MinEpochsAboveMaxEpochs",
                  "[search]\nstrategy = \"halving\"\nmin_epochs = 10\n[hyperparameters]\nmax_epochs = [8]\n",
                  3,
                  {"[search] min_epochs: 10 is more than max_epochs (8), the epochs of the last rung"},
                  {}},
        ErrorCase{"HalvingWithSeveralMaxEpochs",
                  "[search]\nstrategy = \"halving\"\n[hyperparameters]\nmax_epochs = [4, 8]\n",
                  4,
                  {"[hyperparameters] max_epochs: with strategy = \"halving\", max_epochs is the epochs of the last "
                   "rung",
                   "give one value, e.g. max_epochs = [8]"},
                  {}},
        ErrorCase{"HalvingWithAMaxEpochsRange",
                  "[search]\nstrategy = \"halving\"\nexplore_all_combinations = false\n[hyperparameters]\n"
                  "max_epochs = { int_uniform = [2, 8] }\n",
                  5,
                  {"with strategy = \"halving\", max_epochs is the epochs of the last rung"},
                  {}}),
    case_name);

TEST(ConfigStrategy, StrategyAndExploreAllCombinationsTogether) {
  const auto strategy_of = [](const std::string& search) {
    const hf::SearchConfig c = load_text("[search]\n" + search);
    return std::make_pair(c.search.strategy, c.search.explore_all_combinations);
  };
  using S = hf::SearchStrategy;
  EXPECT_EQ(strategy_of(""), std::make_pair(S::Grid, true));
  EXPECT_EQ(strategy_of("explore_all_combinations = false\n"), std::make_pair(S::Random, false));
  EXPECT_EQ(strategy_of("strategy = \"random\"\n"), std::make_pair(S::Random, false));
  EXPECT_EQ(strategy_of("strategy = \"random\"\nexplore_all_combinations = false\n"), std::make_pair(S::Random, false));
  EXPECT_EQ(strategy_of("strategy = \"grid\"\nexplore_all_combinations = true\n"), std::make_pair(S::Grid, true));
  // Halving over the grid, or over drawn candidates.
  EXPECT_EQ(strategy_of("strategy = \"halving\"\n"), std::make_pair(S::Halving, true));
  EXPECT_EQ(strategy_of("strategy = \"halving\"\nexplore_all_combinations = false\n"),
            std::make_pair(S::Halving, false));
  const hf::SearchConfig defaults = load_text("[search]\nstrategy = \"halving\"\n");
  EXPECT_EQ(defaults.search.min_epochs, 1);
  EXPECT_EQ(defaults.search.reduction_factor, 3);
  const hf::SearchConfig set = load_text("[search]\nstrategy = \"halving\"\nmin_epochs = 2\nreduction_factor = 4\n");
  EXPECT_EQ(set.search.min_epochs, 2);
  EXPECT_EQ(set.search.reduction_factor, 4);
}

}  // namespace
