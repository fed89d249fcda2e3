// hyperparameter_results.csv read back for the report: its header and rows of cells, columns
// found by name, so columns added later (validation p-values) are drawn when present.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace hf {

struct ResultsTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // best first, as the search wrote them
  // The column's index, or -1 when the file has no such column.
  int column(const std::string& name) const;
};

// Throws InputError when the file is missing or has no header.
ResultsTable read_results_table(const std::filesystem::path& csv);

}  // namespace hf
