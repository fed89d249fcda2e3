// `hyperfuse report`: one self-contained HTML page about a search (plots embedded as base64
// SVG, no script, no link outside the file, so it opens offline): the distribution of the
// combinations' median log10 p-values, each hyperparameter's values against log10 p, the spread
// of the reruns of the best 20, validation against test p-values when the results have them,
// and the winner's training loss per epoch. Read from the study's hyperparameter_results.csv
// (columns by name) and its journal (each rerun's p-value, the kept networks' losses).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace hf {

struct ReportPlot {
  std::string id;       // the HTML anchor
  std::string title;    // the heading above the plot
  std::string caption;  // what it shows
  std::string svg;
};

struct StudyReport {
  std::string html;
  std::vector<ReportPlot> plots;   // in page order
  std::vector<std::string> notes;  // why a plot is missing (no validation, no kept models, ...)
};

// Throws InputError when the folder has no results; std::runtime_error when gnuplot fails.
StudyReport make_study_report(const std::filesystem::path& study);

}  // namespace hf
