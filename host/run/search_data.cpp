#include "host/run/search_data.hpp"

#include <cmath>

#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"
#include "host/data/labelled_table.hpp"

namespace hf {
namespace {

// "config.toml:4:14: [data] validation = 0.2 (with embargo_rows = 10)", the start of every
// message about a validation fraction.
std::string fraction_context(const SearchConfig& config) {
  const std::string where = config.validation_where.empty() ? config.source.string() : config.validation_where;
  std::string context = where + ": [data] validation = " + python_float_repr(config.validation_fraction);
  if (config.embargo_rows > 0) context += " (with embargo_rows = " + std::to_string(config.embargo_rows) + ")";
  return context;
}

// The label every row of `labels` has, or -1 when both occur.
int only_label(const std::vector<float>& labels) {
  for (float label : labels) {
    if (label != labels.front()) return -1;
  }
  return labels.empty() ? -1 : static_cast<int>(labels.front());
}

std::string rows_text(int first, int count) {
  return count == 1 ? "row " + std::to_string(first)
                    : "rows " + std::to_string(first) + " to " + std::to_string(first + count - 1);
}

// The width of `table` must be the training file's; `role` names it ("test", "validation").
void require_training_width(const LabelledTable& table, const LabelledTable& train, const std::string& role) {
  if (table.features == train.features) return;
  throw InputError(located(table.source.string(), 1, 0,
                           "has " + std::to_string(table.features + 1) + " columns but the training file " +
                               train.source.string() + " has " + std::to_string(train.features + 1) +
                               "; both need the same feature columns and the label last (the " + role + " file)"));
}

// The training file split as [data] validation (a fraction) and embargo_rows say: training rows
// first, then the embargo gap, then the validation rows at the end of the file.
void split_fraction(const SearchConfig& config, const LabelledTable& file, LabelledTable& train,
                    LabelledTable& validation) {
  const std::string context = fraction_context(config);
  const std::string file_name = file.source.string();
  const int validation_rows = validation_row_count(config.validation_fraction, file.rows);
  const long long train_rows = static_cast<long long>(file.rows) - validation_rows - config.embargo_rows;
  if (validation_rows < 2) {
    throw InputError(context + ": holds out " + std::to_string(validation_rows) + " of the " +
                     std::to_string(file.rows) + " rows of " + file_name +
                     ", too few to rank on; use a larger fraction (the validation set needs rows of both classes)");
  }
  if (train_rows < 2) {
    throw InputError(context + ": leaves " + std::to_string(std::max(train_rows, 0LL)) + " training rows of the " +
                     std::to_string(file.rows) + " in " + file_name + " (" + std::to_string(validation_rows) +
                     " go to validation" +
                     (config.embargo_rows > 0 ? ", " + std::to_string(config.embargo_rows) + " to the embargo" : "") +
                     "); use a smaller fraction" + (config.embargo_rows > 0 ? " or fewer embargo rows" : ""));
  }
  const int first_validation = file.rows - validation_rows;
  train = table_rows(file, 0, static_cast<int>(train_rows));
  validation = table_rows(file, first_validation, file.rows);
  const auto one_class = [&](const LabelledTable& part, const std::string& role, const std::string& fix) {
    const int label = only_label(part.labels);
    if (label < 0) return;
    throw InputError(context + ": every " + role + " row (" + rows_text(part.first_row + 1, part.rows) + " of " +
                     file_name + ", not counting blank lines) has label " + std::to_string(label) + "; " + fix);
  };
  one_class(validation, "validation",
            "the validation rows need both classes, 0 and 1, or no network can beat the base rate on them; use a "
            "larger fraction, or give a validation file of its own");
  one_class(train, "training",
            "the training rows need both classes, 0 and 1, as a network cannot learn anything from one class; use a "
            "smaller fraction");
}

// The training file without its last embargo_rows rows, when the validation rows are a file.
LabelledTable embargoed_training_rows(const SearchConfig& config, const LabelledTable& file) {
  if (config.embargo_rows == 0) return file;
  if (config.embargo_rows > file.rows - 2) {
    throw InputError(config.source.string() + ": [data] embargo_rows = " + std::to_string(config.embargo_rows) +
                     " drops the last " + std::to_string(config.embargo_rows) + " rows of " + file.source.string() +
                     ", which has " + std::to_string(file.rows) + "; use fewer embargo rows");
  }
  LabelledTable train = table_rows(file, 0, file.rows - config.embargo_rows);
  if (only_label(train.labels) >= 0) {
    throw InputError(config.source.string() + ": [data] embargo_rows = " + std::to_string(config.embargo_rows) +
                     ": the training rows left in " + file.source.string() + " all have label " +
                     std::to_string(only_label(train.labels)) + "; use fewer embargo rows");
  }
  return train;
}

// Permutations in blocks need at least two blocks to move anything.
void check_permutation_blocks(const SearchConfig& config, const Dataset& ranking, bool validation) {
  if (config.permutations == 0) return;
  const long long blocks =
      (static_cast<long long>(ranking.rows) + config.permutation_block - 1) / config.permutation_block;
  if (blocks >= 2) return;
  throw InputError(config.source.string() +
                   ": [search] permutation_block = " + std::to_string(config.permutation_block) + " makes the " +
                   std::to_string(ranking.rows) + " " + (validation ? "validation" : "test") +
                   " rows a single block, which no permutation can move; use a block of at most " +
                   std::to_string(std::max(1, ranking.rows / 2)) + " rows (docs/SIGNIFICANCE.md), or permutations = 0");
}

}  // namespace

int validation_row_count(double fraction, int rows) {
  return static_cast<int>(std::llround(fraction * static_cast<double>(rows)));
}

SearchData load_search_data(const SearchConfig& config) {
  SearchData data;
  // Each file is read once: parsed here, hashed for the study's identity.
  data.train_file = read_data_file(config.train_path);
  data.test_file = read_data_file(config.test_path);
  const LabelledTable train_file = parse_labelled_csv(data.train_file, config.train_path);
  const LabelledTable test_table = parse_labelled_csv(data.test_file, config.test_path);
  if (train_file.features != test_table.features) {
    throw InputError(located(config.test_path.string(), 1, 0,
                             "has " + std::to_string(test_table.features + 1) + " columns but the training file " +
                                 config.train_path.string() + " has " + std::to_string(train_file.features + 1) +
                                 "; both need the same feature columns and the label last"));
  }
  require_both_labels(train_file, "training");
  require_both_labels(test_table, "test");

  LabelledTable train_table, validation_table;
  if (config.validation_fraction > 0.0) {
    split_fraction(config, train_file, train_table, validation_table);
    data.embargo_rows = config.embargo_rows;
  } else if (!config.validation_path.empty()) {
    data.validation_file = read_data_file(config.validation_path);
    validation_table = parse_labelled_csv(data.validation_file, config.validation_path);
    require_training_width(validation_table, train_file, "validation");
    require_both_labels(validation_table, "validation");
    train_table = embargoed_training_rows(config, train_file);
    data.embargo_rows = config.embargo_rows;
  } else {
    train_table = train_file;
  }

  // Fitted on the training rows alone: validation, embargo and test rows stay unseen.
  data.scaler = StandardScaler::fit(train_table);
  data.train = data.scaler.transform(train_table);
  if (config.has_validation()) data.validation = data.scaler.transform(validation_table);
  data.test = data.scaler.transform(test_table);
  check_permutation_blocks(config, data.ranking(), data.has_validation());
  return data;
}

}  // namespace hf
