// A CSV of examples as the seed script read it: no header, float features, then a 0/1 label
// in the last column (the D.AT layout).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "host/data/csv_cells.hpp"

namespace hf {

struct LabelledTable {
  std::filesystem::path source;
  int rows = 0;
  int features = 0;
  std::vector<double> values;  // rows x features, row-major, as read
  std::vector<float> labels;   // 0 or 1 per row
  int first_row = 0;           // rows of the file before this table's first (a part of a file; see table_rows)
};

// Reads a labelled CSV; throws InputError naming file, line and column for a missing or empty
// file, a ragged row, a cell that is not a finite number, or a label other than 0 and 1.
LabelledTable load_labelled_csv(const std::filesystem::path& path);

// The same for a file's text; `path` names it in messages.
LabelledTable parse_labelled_csv(std::string_view text, const std::filesystem::path& path);

// Rows [begin, end) of `table` as a table of their own, e.g. a validation tail of a training file.
LabelledTable table_rows(const LabelledTable& table, int begin, int end);

// Throws InputError naming the file when every label is the same: `role` ("training" or
// "test") says why that data is useless (nothing to learn; nothing to score against).
void require_both_labels(const LabelledTable& table, const std::string& role);

}  // namespace hf
