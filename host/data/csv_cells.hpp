// The generic half of reading a data file: its bytes as rows of comma-separated cells with
// their line numbers (UTF-8 byte order mark, Windows line endings and blank lines accepted;
// UTF-16 refused), and a cell read as a finite number with a located message and a fix when it
// is not one. labelled_table.cpp holds what the rows must contain.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hf {

// A data file's bytes; throws InputError when it cannot be opened.
std::string read_data_file(const std::filesystem::path& path);

// Calls `row` with each non-blank line's number (from 1) and its trimmed cells, in file order.
void for_each_csv_row(std::string_view text, const std::filesystem::path& path,
                      const std::function<void(long long line, const std::vector<std::string_view>& cells)>& row);

// Cell `column` (0-based) of a row as a finite number; throws InputError at file:line:column
// saying what the cell is and how to fix it. `last_column`: an empty cell there is a trailing
// comma; `first_row`: a word there may be a header row.
double read_number_cell(const std::filesystem::path& path, long long line, int column, std::string_view cell,
                        bool last_column, bool first_row);

// A cell quoted for a message: at most 40 bytes, and bytes that are not printable UTF-8 written
// as \xNN.
std::string shown(std::string_view cell);

}  // namespace hf
