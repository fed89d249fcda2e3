// The two result files: hyperparameter_results.csv (ranked combinations, the seed script's
// columns first) and errors.csv (trainings that failed, with the reason).
#pragma once

#include <string>
#include <vector>

#include "host/config/search_config.hpp"
#include "host/scoring/ranking.hpp"
#include "host/search/search_plan.hpp"

namespace hf {

inline constexpr const char* kResultsFileName = "hyperparameter_results.csv";
inline constexpr const char* kErrorsFileName = "errors.csv";

std::string results_csv(const SearchConfig& config, const SearchPlan& plan, const SearchResults& results);
std::string errors_csv(const SearchConfig& config, const SearchPlan& plan, const SearchResults& results);

// A CSV cell, quoted when it holds a comma, quote or line break.
std::string csv_cell(const std::string& text);

// The cells of one line of a file these functions wrote (the reverse of csv_cell): a
// double-quoted cell may hold commas and doubled quotes.
std::vector<std::string> csv_line_cells(const std::string& line);

}  // namespace hf
