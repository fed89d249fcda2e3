#include "host/data/labelled_table.hpp"

#include "host/common/errors.hpp"
#include "host/data/csv_cells.hpp"

namespace hf {
namespace {

// A row needs a feature and a label, and as many cells as the first row (`columns`, 0 before it).
void check_columns(const std::string& file, long long line, const std::vector<std::string_view>& cells, int columns) {
  if (columns == 0 && cells.size() < 2) {
    throw InputError(located(file, line, 0,
                             "found " + std::to_string(cells.size()) +
                                 " column; each row needs at least one feature and a 0/1 label in the last column, "
                                 "separated by commas"));
  }
  if (columns != 0 && static_cast<int>(cells.size()) != columns) {
    std::string hint = "every row needs the same number of comma-separated values";
    if (cells.back().empty()) hint += " (this row ends with a comma: remove the trailing comma)";
    throw InputError(located(file, line, 0,
                             "this row has " + std::to_string(cells.size()) + " columns but the first row has " +
                                 std::to_string(columns) + "; " + hint));
  }
}

}  // namespace

LabelledTable load_labelled_csv(const std::filesystem::path& path) {
  return parse_labelled_csv(read_data_file(path), path);
}

LabelledTable parse_labelled_csv(std::string_view text, const std::filesystem::path& path) {
  const std::string file = path.string();
  LabelledTable table;
  table.source = path;
  int columns = 0;
  for_each_csv_row(text, path, [&](long long line, const std::vector<std::string_view>& cells) {
    check_columns(file, line, cells, columns);
    if (columns == 0) columns = static_cast<int>(cells.size());
    for (int c = 0; c < columns; ++c) {
      const bool label = c == columns - 1;
      const double value = read_number_cell(path, line, c, cells[c], label, table.rows == 0);
      if (!label) {
        table.values.push_back(value);
        continue;
      }
      if (value != 0.0 && value != 1.0) {
        throw InputError(located(file, line, c + 1,
                                 "column " + std::to_string(c + 1) + " (the label): " + shown(cells[c]) +
                                     " is not 0 or 1; the last column must hold the 0/1 label"));
      }
      table.labels.push_back(static_cast<float>(value));
    }
    ++table.rows;
  });
  if (table.rows == 0)
    throw InputError(file + ": the data file has no rows; it needs one example per line (features, then a 0/1 label)");
  table.features = columns - 1;
  return table;
}

LabelledTable table_rows(const LabelledTable& table, int begin, int end) {
  LabelledTable part;
  part.source = table.source;
  part.rows = end - begin;
  part.features = table.features;
  part.first_row = table.first_row + begin;
  const auto width = static_cast<std::size_t>(table.features);
  part.values.assign(table.values.begin() + static_cast<std::ptrdiff_t>(begin * width),
                     table.values.begin() + static_cast<std::ptrdiff_t>(end * width));
  part.labels.assign(table.labels.begin() + begin, table.labels.begin() + end);
  return part;
}

void require_both_labels(const LabelledTable& table, const std::string& role) {
  if (table.labels.empty()) return;
  const float first = table.labels.front();
  for (float label : table.labels) {
    if (label != first) return;
  }
  const std::string label = first == 0.0f ? "0" : "1";
  const std::string consequence =
      role == "training" ? "a network cannot learn anything from one class"
                         : "no network can beat the base rate, so every precision p-value would be 1 and nothing "
                           "could be ranked";
  throw InputError(table.source.string() + ": every label (the last column) is " + label + ", in all " +
                   std::to_string(table.rows) + " rows; the " + role +
                   " data needs rows of both classes, 0 and 1, as " + consequence +
                   "; check that the label is the last column, or use a file with both classes");
}

}  // namespace hf
