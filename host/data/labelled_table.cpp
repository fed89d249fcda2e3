#include "host/data/labelled_table.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>

#include "host/common/errors.hpp"

namespace hf {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view text, double* out) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return false;  // "+-1"
  }
  const auto result = std::from_chars(text.data(), text.data() + text.size(), *out);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

std::string shown(std::string_view cell) {
  std::string s(cell.substr(0, 40));
  if (cell.size() > 40) s += "...";
  return "'" + s + "'";
}

}  // namespace

LabelledTable load_labelled_csv(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(file +
                     ": cannot open the data file; check [data] train/test in the config (relative paths start at the "
                     "config file's folder)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_labelled_csv(buffer.str(), path);
}

LabelledTable parse_labelled_csv(std::string_view text, const std::filesystem::path& path) {
  const std::string file = path.string();
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark from spreadsheet exports

  LabelledTable table;
  table.source = path;
  int columns = 0;
  long long line_number = 0;
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    const std::string_view line = trim(text.substr(line_start, line_end - line_start));
    line_start = line_end + 1;
    ++line_number;
    if (line.empty()) continue;

    std::vector<std::string_view> cells;
    std::size_t cell_start = 0;
    for (;;) {
      const std::size_t comma = line.find(',', cell_start);
      cells.push_back(
          trim(line.substr(cell_start, comma == std::string_view::npos ? std::string_view::npos : comma - cell_start)));
      if (comma == std::string_view::npos) break;
      cell_start = comma + 1;
    }
    if (columns == 0) {
      if (cells.size() < 2) {
        throw InputError(located(file, line_number, 0,
                                 "found " + std::to_string(cells.size()) +
                                     " column; each row needs at least one feature and a 0/1 label in the last column, "
                                     "separated by commas"));
      }
      columns = static_cast<int>(cells.size());
    } else if (static_cast<int>(cells.size()) != columns) {
      throw InputError(located(file, line_number, 0,
                               "this row has " + std::to_string(cells.size()) + " columns but the first row has " +
                                   std::to_string(columns) +
                                   "; every row needs the same number of comma-separated values"));
    }
    for (int c = 0; c < columns; ++c) {
      double value = 0.0;
      if (!parse_double(cells[c], &value)) {
        std::string hint = "every cell must be a plain number such as 0.9617";
        if (table.rows == 0) hint += " (if this is a header row, delete it: the data files have no header)";
        throw InputError(
            located(file, line_number, c + 1,
                    "column " + std::to_string(c + 1) + ": " + shown(cells[c]) + " is not a number; " + hint));
      }
      if (!std::isfinite(value)) {
        throw InputError(located(file, line_number, c + 1,
                                 "column " + std::to_string(c + 1) + ": " + shown(cells[c]) +
                                     " is not a finite number; replace or drop this row"));
      }
      if (c == columns - 1) {
        if (value != 0.0 && value != 1.0) {
          throw InputError(located(file, line_number, c + 1,
                                   "column " + std::to_string(c + 1) + " (the label): " + shown(cells[c]) +
                                       " is not 0 or 1; the last column must hold the 0/1 label"));
        }
        table.labels.push_back(static_cast<float>(value));
      } else {
        table.values.push_back(value);
      }
    }
    ++table.rows;
  }
  if (table.rows == 0)
    throw InputError(file + ": the data file has no rows; it needs one example per line (features, then a 0/1 label)");
  table.features = columns - 1;
  return table;
}

}  // namespace hf
