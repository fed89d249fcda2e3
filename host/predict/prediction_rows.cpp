#include "host/predict/prediction_rows.hpp"

#include "host/common/errors.hpp"
#include "host/data/csv_cells.hpp"

namespace hf {
namespace {

// Where the features sit in a row of `columns` cells.
struct Layout {
  bool identifiers = false;
  bool labels = false;
};

bool is_number(std::string_view cell, const std::filesystem::path& path) {
  try {
    read_number_cell(path, 1, 0, cell, false, false);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

Layout layout_of(const std::filesystem::path& path, long long line, const std::vector<std::string_view>& first_row,
                 int features) {
  const int columns = static_cast<int>(first_row.size());
  if (columns == features) return {false, false};
  // One extra column: an identifier when the first cell is not a number, else a label.
  if (columns == features + 1) return {!is_number(first_row.front(), path), is_number(first_row.front(), path)};
  if (columns == features + 2) return {true, true};
  throw InputError(located(
      path.string(), line, 0,
      "this row has " + std::to_string(columns) + " columns, but the model takes " + std::to_string(features) +
          " features; each row needs the " + std::to_string(features) +
          " feature columns of the training file (without its label), optionally an identifier such as a ticker "
          "first and a 0/1 label last (" +
          std::to_string(features) + " to " + std::to_string(features + 2) + " columns)"));
}

std::string_view unquoted(std::string_view cell) {
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') return cell.substr(1, cell.size() - 2);
  return cell;
}

}  // namespace

PredictionRows read_prediction_rows(const std::filesystem::path& path, int features) {
  const std::string file = path.string();
  if (!std::filesystem::is_regular_file(path)) {
    throw InputError(file + ": cannot open the data file to predict; check the path (a CSV file, one row per line)");
  }
  const std::string text = read_data_file(path);
  PredictionRows rows;
  rows.table.source = path;
  rows.table.features = features;
  int columns = 0;
  Layout layout;
  for_each_csv_row(text, path, [&](long long line, const std::vector<std::string_view>& cells) {
    if (columns == 0) {
      layout = layout_of(path, line, cells, features);
      columns = static_cast<int>(cells.size());
      rows.has_identifiers = layout.identifiers;
      rows.has_labels = layout.labels;
    }
    if (static_cast<int>(cells.size()) != columns) {
      std::string hint = "every row needs the same number of comma-separated values";
      if (cells.back().empty()) hint += " (this row ends with a comma: remove the trailing comma)";
      throw InputError(located(file, line, 0,
                               "this row has " + std::to_string(cells.size()) + " columns but the first row has " +
                                   std::to_string(columns) + "; " + hint));
    }
    int column = 0;
    if (layout.identifiers) {
      const std::string_view identifier = unquoted(cells[0]);
      if (identifier.empty()) {
        throw InputError(located(file, line, 1,
                                 "column 1 (the identifier) is empty; give every row an identifier such as its "
                                 "ticker, or drop the column"));
      }
      rows.identifiers.emplace_back(identifier);
      column = 1;
    }
    for (int f = 0; f < features; ++f, ++column) {
      const bool last = column == columns - 1;
      rows.table.values.push_back(read_number_cell(path, line, column, cells[column], last, rows.table.rows == 0));
    }
    if (layout.labels) {
      const double label = read_number_cell(path, line, column, cells[column], true, rows.table.rows == 0);
      if (label != 0.0 && label != 1.0) {
        throw InputError(located(
            file, line, column + 1,
            "column " + std::to_string(column + 1) + " (the label): " + shown(cells[column]) + " is not 0 or 1; with " +
                std::to_string(columns) + " columns the last one is read as the 0/1 label (the model takes " +
                std::to_string(features) + " features); check the file has the training file's feature columns"));
      }
      rows.table.labels.push_back(static_cast<float>(label));
    }
    rows.lines.push_back(line);
    ++rows.table.rows;
  });
  if (rows.table.rows == 0) {
    throw InputError(file + ": the data file has no rows; it needs one row per line: the " + std::to_string(features) +
                     " feature columns, optionally an identifier first and a 0/1 label last");
  }
  return rows;
}

}  // namespace hf
