#include "host/study_report/results_table.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "host/common/errors.hpp"
#include "host/report/results_csv.hpp"

namespace hf {

int ResultsTable::column(const std::string& name) const {
  const auto found = std::find(header.begin(), header.end(), name);
  return found == header.end() ? -1 : static_cast<int>(found - header.begin());
}

ResultsTable read_results_table(const std::filesystem::path& csv) {
  std::ifstream in(csv, std::ios::binary);
  if (!in) {
    throw InputError(csv.string() +
                     ": cannot open the search's results; give --study the output folder of a search that has written "
                     "its results (hyperfuse run)");
  }
  ResultsTable table;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (table.header.empty()) {
      table.header = csv_line_cells(line);
    } else {
      table.rows.push_back(csv_line_cells(line));
    }
  }
  if (table.header.empty()) throw InputError(csv.string() + ": the results file is empty");
  return table;
}

}  // namespace hf
