#include "host/report/results_csv.hpp"

#include <cstdio>

#include "host/common/number_format.hpp"

namespace hf {
namespace {

std::string hyperparameter_header(const SearchConfig& config) {
  std::string line;
  for (const HyperparameterAxis& axis : config.search.axes) line += std::string(key_name(axis.key)) + ",";
  return line;
}

std::string hyperparameter_cells(const SearchConfig& config, const PlannedCombination& combination) {
  std::string line;
  for (std::size_t a = 0; a < config.search.axes.size(); ++a) {
    line += csv_cell(config.search.axes[a].values[static_cast<std::size_t>(combination.values[a])].text) + ",";
  }
  return line;
}

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", seconds);
  return buffer;
}

// ",precision,tp,fp,fn,tn" of one rerun.
std::string set_cells(const PrecisionTest& score, const ConfusionCounts& counts) {
  std::string cells = "," + python_float_repr(score.precision);
  for (std::int64_t n : {counts.tp, counts.fp, counts.fn, counts.tn}) cells += "," + std::to_string(n);
  return cells;
}

}  // namespace

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string results_csv(const SearchConfig& config, const SearchPlan& plan, const SearchResults& results) {
  // The seed's columns first, describing the rows the ranking uses; the search-adjusted
  // p-values after them; with validation rows, both sets under names of their own.
  std::string out = hyperparameter_header(config) + "p_value,execution_time,log10_p_value,precision,tp,fp,fn,tn";
  for (int r = 1; r <= config.search.rerun_count; ++r) out += ",p_value_rerun_" + std::to_string(r);
  out += ",holm_p_value,bh_p_value,search_p_value";
  if (config.has_validation()) {
    for (const char* set : {"val", "test"}) {
      for (const char* column : {"log10_p_value", "precision", "tp", "fp", "fn", "tn"})
        out += std::string(",") + set + "_" + column;
    }
  }
  out += "\n";
  for (const RankedCombination& c : results.ranked) {
    out += hyperparameter_cells(config, plan.combinations[c.combination]);
    out += python_float_repr(c.p_value) + "," + seconds_text(c.seconds) + "," + python_float_repr(c.log10_p_value);
    out += set_cells(c.representative_score, c.representative_counts);
    for (double p : c.rerun_p_values) out += "," + python_float_repr(p);
    out += "," + python_float_repr(c.holm_p_value) + "," + python_float_repr(c.bh_p_value) + ",";
    if (c.search_p_value >= 0.0) out += python_float_repr(c.search_p_value);
    if (config.has_validation()) {
      out += "," + python_float_repr(c.log10_p_value) + set_cells(c.representative_score, c.representative_counts);
      out += "," + python_float_repr(c.test_log10_p_value) +
             set_cells(c.test_representative_score, c.test_representative_counts);
    }
    out += "\n";
  }
  return out;
}

std::string errors_csv(const SearchConfig& config, const SearchPlan& plan, const SearchResults& results) {
  std::string out = hyperparameter_header(config) + "rerun,seed,error\n";
  for (const FailedTraining& f : results.failures) {
    out += hyperparameter_cells(config, plan.combinations[f.combination]) + std::to_string(f.rerun + 1) + "," +
           std::to_string(f.seed) + "," + csv_cell(f.error) + "\n";
  }
  return out;
}

std::vector<std::string> csv_line_cells(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cells.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else if (c != '\r') {
      cells.back() += c;
    }
  }
  return cells;
}

}  // namespace hf
