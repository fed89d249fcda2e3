#include "host/data/labelled_table.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "host/common/errors.hpp"

namespace hf {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

enum class Cell { Number, NotANumber, TooLarge };

// A plain decimal number as Python's float() reads it: a leading '+' is allowed, a value too
// small for a double becomes 0 (or a subnormal), one too large is reported as such.
Cell parse_number(std::string_view text, double* out) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return Cell::NotANumber;  // "+-1"
  }
  const auto result = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (result.ptr != text.data() + text.size()) return Cell::NotANumber;
  if (result.ec == std::errc()) return Cell::Number;
  if (result.ec != std::errc::result_out_of_range) return Cell::NotANumber;
  // from_chars says only "out of range": strtod (C locale, as this program never sets
  // another) tells overflow (HUGE_VAL) from underflow (0 or a subnormal).
  *out = std::strtod(std::string(text).c_str(), nullptr);
  return std::fabs(*out) < 1.0 ? Cell::Number : Cell::TooLarge;
}

// Whether `text` is valid UTF-8 without control characters, so a message can quote it as is.
bool printable_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    int continuation = 0;
    if (byte < 0x20 || byte == 0x7F) return false;
    if (byte < 0x80)
      continuation = 0;
    else if (byte >= 0xC2 && byte <= 0xDF)
      continuation = 1;
    else if (byte >= 0xE0 && byte <= 0xEF)
      continuation = 2;
    else if (byte >= 0xF0 && byte <= 0xF4)
      continuation = 3;
    else
      return false;
    if (i + continuation >= text.size() && continuation > 0) return false;
    for (int k = 1; k <= continuation; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += 1 + continuation;
  }
  return true;
}

// A cell quoted for a message: at most 40 bytes, and bytes that are not printable UTF-8
// (binary data, another encoding) written as \xNN so the terminal shows what is there.
std::string shown(std::string_view cell) {
  const std::string_view head = cell.substr(0, 40);
  std::string s;
  if (printable_utf8(head)) {
    s = head;
  } else {
    for (char c : head) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= 0x20 && byte < 0x7F) {
        s += c;
      } else {
        static const char kHex[] = "0123456789abcdef";
        s += "\\x";
        s += kHex[byte >> 4];
        s += kHex[byte & 15];
      }
    }
  }
  if (cell.size() > 40) s += "...";
  return "'" + s + "'";
}

// A cell without the double quotes a spreadsheet may put around it ("1.5" reads as 1.5).
std::string_view unquoted(std::string_view cell) {
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') return trim(cell.substr(1, cell.size() - 2));
  return cell;
}

}  // namespace

std::string read_data_file(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path))
    throw InputError(file +
                     ": cannot open the data file; check [data] train/test in the config (relative paths start at the "
                     "config file's folder)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

LabelledTable load_labelled_csv(const std::filesystem::path& path) {
  return parse_labelled_csv(read_data_file(path), path);
}

LabelledTable parse_labelled_csv(std::string_view text, const std::filesystem::path& path) {
  const std::string file = path.string();
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark from spreadsheet exports
  if (text.substr(0, 2) == "\xFF\xFE" || text.substr(0, 2) == "\xFE\xFF") {
    throw InputError(file +
                     ": the file is UTF-16 text (it starts with a UTF-16 byte order mark, as spreadsheets write "
                     "\"Unicode text\"); save it as CSV in UTF-8 or ASCII");
  }

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
      std::string hint = "every row needs the same number of comma-separated values";
      if (cells.back().empty()) hint += " (this row ends with a comma: remove the trailing comma)";
      throw InputError(located(file, line_number, 0,
                               "this row has " + std::to_string(cells.size()) + " columns but the first row has " +
                                   std::to_string(columns) + "; " + hint));
    }
    for (int c = 0; c < columns; ++c) {
      double value = 0.0;
      const Cell parsed = parse_number(unquoted(cells[c]), &value);
      if (parsed == Cell::TooLarge) {
        throw InputError(located(file, line_number, c + 1,
                                 "column " + std::to_string(c + 1) + ": " + shown(cells[c]) +
                                     " is too large for a double (beyond about 1.8e308); rescale this column or drop "
                                     "the row"));
      }
      if (parsed == Cell::NotANumber) {
        std::string hint = "every cell must be a plain number such as 0.9617";
        if (cells[c].empty() && c == columns - 1) {
          hint = "the row ends with a comma: remove the trailing comma (the 0/1 label is the last value)";
        } else if (cells[c].empty()) {
          hint = "the cell is empty: every row needs a value in every column";
        } else if (cells[c].find('"') != std::string_view::npos && unquoted(cells[c]) == cells[c]) {
          hint += "; a quoted cell must hold one number with a dot as the decimal separator, e.g. \"0.9617\"";
        } else if (table.rows == 0) {
          hint += " (if this is a header row, delete it: the data files have no header)";
        }
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
