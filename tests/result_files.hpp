// Reading the files a search writes, for tests that compare two runs' results.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "host/report/results_csv.hpp"

namespace hf::testing {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Rows of cells; a quoted cell may hold commas ("[2, 1, 0.5]").
inline std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(read_text(path));
  std::string line;
  while (std::getline(lines, line)) rows.push_back(csv_line_cells(line));
  return rows;
}

// The results without the execution_time column: the one column two runs of the same search
// may not agree on.
inline std::vector<std::vector<std::string>> without_timing(std::vector<std::vector<std::string>> rows) {
  if (rows.empty()) return rows;
  const auto& header = rows.front();
  const auto column = std::find(header.begin(), header.end(), "execution_time") - header.begin();
  if (column == static_cast<long>(header.size())) return rows;
  for (auto& row : rows) row.erase(row.begin() + column);
  return rows;
}

}  // namespace hf::testing
