#include "host/data/csv_cells.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

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

}  // namespace

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

namespace {

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

void for_each_csv_row(std::string_view text, const std::filesystem::path& path,
                      const std::function<void(long long line, const std::vector<std::string_view>& cells)>& row) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark from spreadsheet exports
  if (text.substr(0, 2) == "\xFF\xFE" || text.substr(0, 2) == "\xFE\xFF") {
    throw InputError(path.string() +
                     ": the file is UTF-16 text (it starts with a UTF-16 byte order mark, as spreadsheets write "
                     "\"Unicode text\"); save it as CSV in UTF-8 or ASCII");
  }
  long long line_number = 0;
  std::size_t line_start = 0;
  std::vector<std::string_view> cells;
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    const std::string_view line = trim(text.substr(line_start, line_end - line_start));
    line_start = line_end + 1;
    ++line_number;
    if (line.empty()) continue;
    cells.clear();
    std::size_t cell_start = 0;
    for (;;) {
      const std::size_t comma = line.find(',', cell_start);
      cells.push_back(
          trim(line.substr(cell_start, comma == std::string_view::npos ? std::string_view::npos : comma - cell_start)));
      if (comma == std::string_view::npos) break;
      cell_start = comma + 1;
    }
    row(line_number, cells);
  }
}

double read_number_cell(const std::filesystem::path& path, long long line, int column, std::string_view cell,
                        bool last_column, bool first_row) {
  const std::string file = path.string();
  double value = 0.0;
  const Cell parsed = parse_number(unquoted(cell), &value);
  if (parsed == Cell::TooLarge) {
    throw InputError(located(file, line, column + 1,
                             "column " + std::to_string(column + 1) + ": " + shown(cell) +
                                 " is too large for a double (beyond about 1.8e308); rescale this column or drop "
                                 "the row"));
  }
  if (parsed == Cell::NotANumber) {
    std::string hint = "every cell must be a plain number such as 0.9617";
    if (cell.empty() && last_column) {
      hint = "the row ends with a comma: remove the trailing comma (the 0/1 label is the last value)";
    } else if (cell.empty()) {
      hint = "the cell is empty: every row needs a value in every column";
    } else if (cell.find('"') != std::string_view::npos && unquoted(cell) == cell) {
      hint += "; a quoted cell must hold one number with a dot as the decimal separator, e.g. \"0.9617\"";
    } else if (first_row) {
      hint += " (if this is a header row, delete it: the data files have no header)";
    }
    throw InputError(
        located(file, line, column + 1,
                "column " + std::to_string(column + 1) + ": " + shown(cell) + " is not a number; " + hint));
  }
  if (!std::isfinite(value)) {
    throw InputError(located(file, line, column + 1,
                             "column " + std::to_string(column + 1) + ": " + shown(cell) +
                                 " is not a finite number; replace or drop this row"));
  }
  return value;
}

}  // namespace hf
