#include "host/study_report/study_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"
#include "host/journal/stored_models.hpp"
#include "host/journal/study_journal.hpp"
#include "host/journal/training_rows.hpp"
#include "host/report/results_csv.hpp"
#include "host/search/hyperparameters.hpp"
#include "host/study_report/gnuplot.hpp"
#include "host/study_report/results_table.hpp"

namespace hf {
namespace {

constexpr int kTopForReruns = 20;
constexpr int kTopInTable = 10;
constexpr const char* kBlue = "#4477aa";
constexpr const char* kRed = "#cc3311";

// One ranked combination as the results file lists it.
struct Combination {
  int rank = 0;
  std::vector<std::string> values;  // per hyperparameter column
  double log10_p_value = 0.0;
};

struct StudyData {
  ResultsTable table;
  std::vector<std::string> keys;  // the hyperparameter columns, in the file's order
  std::vector<int> key_columns;
  std::vector<Combination> combinations;
};

bool parse_double(const std::string& text, double* value) {
  if (text.empty()) return false;
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(*value);
}

std::string number(double value) { return python_float_repr(value); }

std::string html_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(const std::string& bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < bytes.size()) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

StudyData read_study(const std::filesystem::path& study) {
  StudyData data;
  data.table = read_results_table(study / kResultsFileName);
  const int log10_column = data.table.column("log10_p_value");
  if (log10_column < 0) {
    throw InputError((study / kResultsFileName).string() +
                     ": has no log10_p_value column; is it a hyperfuse results file?");
  }
  for (const HyperparameterDescriptor& d : hyperparameter_table()) {
    const int column = data.table.column(d.name);
    if (column >= 0) {
      data.keys.emplace_back(d.name);
      data.key_columns.push_back(column);
    }
  }
  // The file's order of columns, not the table's.
  std::vector<std::size_t> order(data.keys.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return data.key_columns[a] < data.key_columns[b]; });
  std::vector<std::string> keys;
  std::vector<int> columns;
  for (std::size_t i : order) {
    keys.push_back(data.keys[i]);
    columns.push_back(data.key_columns[i]);
  }
  data.keys = keys;
  data.key_columns = columns;
  for (std::size_t r = 0; r < data.table.rows.size(); ++r) {
    const std::vector<std::string>& row = data.table.rows[r];
    Combination c;
    c.rank = static_cast<int>(r) + 1;
    if (static_cast<int>(row.size()) <= log10_column || !parse_double(row[log10_column], &c.log10_p_value)) continue;
    for (int column : data.key_columns) c.values.push_back(column < static_cast<int>(row.size()) ? row[column] : "");
    data.combinations.push_back(std::move(c));
  }
  if (data.combinations.empty()) {
    throw InputError((study / kResultsFileName).string() +
                     ": no combination is ranked yet (every one has a rerun missing or failed); nothing to plot");
  }
  return data;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

ReportPlot p_value_distribution(const StudyData& data) {
  double lowest = data.combinations.front().log10_p_value, highest = lowest;
  std::string values;
  for (const Combination& c : data.combinations) {
    lowest = std::min(lowest, c.log10_p_value);
    highest = std::max(highest, c.log10_p_value);
    values += number(c.log10_p_value) + "\n";
  }
  const double width = highest > lowest ? (highest - lowest) / 24.0 : 1.0;
  GnuplotFigure f;
  f.data_files = {{"values.tsv", values}};
  f.script = "binwidth = " + number(width) + "\nlowest = " + number(lowest) +
             "\nbin(x) = lowest + binwidth * (floor((x - lowest) / binwidth) + 0.5)\n"
             "set boxwidth binwidth * 0.92\nset style fill solid 0.7 border -1\n"
             "set xlabel \"median log10 p-value of the reruns (lower is better)\"\nset ylabel \"combinations\"\n"
             "set grid ytics\nset yrange [0:*]\n"
             "plot \"values.tsv\" using (bin($1)):(1.0) smooth freq with boxes lc rgb \"" +
             std::string(kBlue) + "\" notitle\n";
  return {"p-values", "Distribution of median log10 p-values",
          std::to_string(data.combinations.size()) +
              " ranked combinations; each one's median over its reruns of the log10 precision p-value on the test "
              "set. A long left tail means some combinations find real signal.",
          render_svg(f)};
}

// A hyperparameter's values in a readable order: by number when every value is one.
std::vector<std::string> ordered_values(const StudyData& data, std::size_t key) {
  std::vector<std::string> values;
  for (const Combination& c : data.combinations) {
    if (std::find(values.begin(), values.end(), c.values[key]) == values.end()) values.push_back(c.values[key]);
  }
  double ignored = 0.0;
  const bool numeric =
      std::all_of(values.begin(), values.end(), [&](const std::string& v) { return parse_double(v, &ignored); });
  if (numeric) {
    std::sort(values.begin(), values.end(), [](const std::string& a, const std::string& b) {
      return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
    });
  } else {
    std::sort(values.begin(), values.end());
  }
  return values;
}

ReportPlot hyperparameter_panel(const StudyData& data, std::size_t key, const std::vector<std::string>& values) {
  std::string points, medians, tics;
  std::vector<std::vector<double>> by_value(values.size());
  for (std::size_t i = 0; i < data.combinations.size(); ++i) {
    const Combination& c = data.combinations[i];
    const std::size_t v =
        static_cast<std::size_t>(std::find(values.begin(), values.end(), c.values[key]) - values.begin());
    by_value[v].push_back(c.log10_p_value);
    // A fixed spread around the value's position, so equal scores stay visible.
    const double jitter = (std::fmod(static_cast<double>(i) * 0.6180339887, 1.0) - 0.5) * 0.5;
    points += number(static_cast<double>(v) + jitter) + "\t" + number(c.log10_p_value) + "\n";
  }
  bool long_labels = false;
  for (std::size_t v = 0; v < values.size(); ++v) {
    medians += std::to_string(v) + "\t" + number(median(by_value[v])) + "\n";
    tics += (v ? ", " : "") + gnuplot_quoted(values[v]) + " " + std::to_string(v);
    long_labels = long_labels || values[v].size() > 8;
  }
  GnuplotFigure f;
  f.data_files = {{"points.tsv", points}, {"medians.tsv", medians}};
  // Many long labels (hidden_layers lists) are turned so they do not overlap.
  const bool turned = long_labels && values.size() > 4;
  f.script = "set xrange [-0.6:" + number(static_cast<double>(values.size()) - 0.4) + "]\nset xtics (" + tics + ")" +
             (turned ? " rotate by -25\nset bmargin 7" : "") + "\nset xlabel " + gnuplot_quoted(data.keys[key]) +
             "\nset ylabel \"median log10 p-value\"\nset grid ytics\nset key outside top center horizontal\n"
             "plot \"points.tsv\" using 1:2 with points pt 7 ps 0.6 lc rgb \"" +
             std::string(kBlue) +
             "\" title \"a combination\", \"medians.tsv\" using 1:2 with points pt 5 ps 1.6 lc rgb \"" + kRed +
             "\" title \"median of the value's combinations\"\n";
  return {"by-" + data.keys[key], "log10 p by " + data.keys[key],
          "Every ranked combination's median log10 p-value against its " + data.keys[key] +
              " (points spread sideways to stay visible), and each value's median: a value whose points sit lower "
              "is better.",
          render_svg(f)};
}

// Each rerun's log10 p-value of the best combinations, from the journal's trainings table.
ReportPlot rerun_spread(const StudyData& data, const std::vector<TrainingRow>& trainings) {
  std::map<std::vector<std::string>, std::vector<double>> by_values;
  for (const TrainingRow& row : trainings) {
    const auto status = row.find("status");
    const auto score = row.find("log10_p_value");
    double value = 0.0;
    if (status == row.end() || status->second != "finished" || score == row.end() ||
        !parse_double(score->second, &value))
      continue;
    std::vector<std::string> values;
    for (const std::string& key : data.keys) {
      const auto cell = row.find(key);
      values.push_back(cell == row.end() ? "" : cell->second);
    }
    by_values[values].push_back(value);
  }
  std::string reruns, medians;
  const int shown = std::min<int>(kTopForReruns, static_cast<int>(data.combinations.size()));
  for (int r = 0; r < shown; ++r) {
    const Combination& c = data.combinations[r];
    medians += std::to_string(c.rank) + "\t" + number(c.log10_p_value) + "\n";
    const auto found = by_values.find(c.values);
    if (found == by_values.end()) continue;
    for (double v : found->second) reruns += std::to_string(c.rank) + "\t" + number(v) + "\n";
  }
  GnuplotFigure f;
  f.data_files = {{"reruns.tsv", reruns.empty() ? "0\t0\n" : reruns}, {"medians.tsv", medians}};
  f.script = "set xrange [0.4:" + number(shown + 0.6) +
             "]\nset xtics 1\nset xlabel \"rank\"\nset ylabel \"log10 p-value\"\nset grid ytics\n"
             "set key outside top center horizontal\n"
             "plot \"reruns.tsv\" using 1:2 with points pt 7 ps 0.8 lc rgb \"" +
             std::string(kBlue) +
             "\" title \"a rerun\", \"medians.tsv\" using 1:2 with points pt 2 ps 1.8 lw 2 lc rgb \"" + kRed +
             "\" title \"median (what ranks it)\"\n";
  return {"reruns", "Reruns of the best " + std::to_string(shown),
          "Each rerun's log10 p-value (same hyperparameters, its own seed) for the best " + std::to_string(shown) +
              " combinations: a wide spread means the rank owes much to luck.",
          render_svg(f)};
}

ReportPlot validation_against_test(const StudyData& data, int validation, int test) {
  std::string points;
  double lowest = 0.0, highest = 0.0;
  int count = 0;
  for (const std::vector<std::string>& row : data.table.rows) {
    double v = 0.0, t = 0.0;
    if (static_cast<int>(row.size()) <= std::max(validation, test) || !parse_double(row[validation], &v) ||
        !parse_double(row[test], &t))
      continue;
    lowest = std::min({lowest, v, t});
    highest = std::max({highest, v, t});
    points += number(v) + "\t" + number(t) + "\n";
    ++count;
  }
  GnuplotFigure f;
  f.data_files = {{"points.tsv", points.empty() ? "0\t0\n" : points}};
  f.script = "set xrange [" + number(lowest - 0.5) + ":" + number(highest + 0.5) + "]\nset yrange [" +
             number(lowest - 0.5) + ":" + number(highest + 0.5) +
             "]\nset xlabel \"validation log10 p-value\"\nset ylabel \"test log10 p-value\"\nset grid\n"
             "set key outside top center horizontal\nset size ratio -1\n"
             "plot \"points.tsv\" using 1:2 with points pt 7 ps 0.6 lc rgb \"" +
             std::string(kBlue) + "\" title \"a combination\", x with lines dt 2 lc rgb \"#777777\" title \"equal\"\n";
  return {"validation-test", "Validation against test p-values",
          std::to_string(count) +
              " combinations' median log10 p-value on the validation rows against the test rows: points near the "
              "diagonal generalise; a validation score far below its test score was luck.",
          render_svg(f)};
}

ReportPlot winner_loss(const StoredEnsemble& winner) {
  GnuplotFigure f;
  std::string plot = "plot ";
  for (std::size_t r = 0; r < winner.epoch_losses.size(); ++r) {
    std::string rows;
    for (std::size_t e = 0; e < winner.epoch_losses[r].size(); ++e)
      rows += std::to_string(e + 1) + "\t" + number(winner.epoch_losses[r][e]) + "\n";
    const std::string file = "rerun" + std::to_string(winner.reruns[r]) + ".tsv";
    f.data_files.emplace_back(file, rows.empty() ? "1\t0\n" : rows);
    plot += std::string(r ? ", " : "") + gnuplot_quoted(file) + " using 1:2 with linespoints pt 7 ps 0.7 title " +
            gnuplot_quoted("rerun " + std::to_string(winner.reruns[r]));
  }
  f.script =
      "set xlabel \"epoch\"\nset ylabel \"mean training loss\"\nset grid\nset xtics 1\n"
      "set key outside top center horizontal\n" +
      plot + "\n";
  std::string settings;
  for (const auto& [key, value] : winner.hyperparameters) {
    if (key == "loss_function" || key == "optimizer" || key == "learning_rate")
      settings += (settings.empty() ? "" : ", ") + key + " " + value;
  }
  return {"training-loss", "Training loss of the winner",
          "The best combination's mean training loss (with its L1 term) over each epoch's steps, one line per rerun (" +
              settings + ").",
          render_svg(f)};
}

std::string results_summary(const StudyData& data) {
  std::string html = "<table>\n<tr><th>rank</th>";
  for (const std::string& key : data.keys) html += "<th>" + html_escaped(key) + "</th>";
  html += "<th>median log10 p</th></tr>\n";
  for (int r = 0; r < std::min<int>(kTopInTable, static_cast<int>(data.combinations.size())); ++r) {
    const Combination& c = data.combinations[r];
    html += "<tr><td>" + std::to_string(c.rank) + "</td>";
    for (const std::string& v : c.values) html += "<td>" + html_escaped(v) + "</td>";
    char score[32];
    std::snprintf(score, sizeof score, "%.3f", c.log10_p_value);
    html += "<td>" + std::string(score) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

std::string page(const std::filesystem::path& study, const StudyData& data, const StudyReport& report) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>hyperfuse report: " +
      html_escaped(study.string()) +
      "</title>\n<style>\n"
      "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;"
      "color:#222}\n"
      "h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\n"
      ".wide{overflow-x:auto}table{border-collapse:collapse;font-size:.8em}"
      "td,th{border:1px solid #ccc;padding:.2em .4em;text-align:left;white-space:nowrap}\n"
      "figure{margin:0}img{max-width:100%;height:auto}figcaption,.note{color:#555;font-size:.9em}\n"
      "</style>\n</head>\n<body>\n<h1>hyperfuse search report</h1>\n<p>Study <code>" +
      html_escaped(study.string()) + "</code>: " + std::to_string(data.combinations.size()) +
      " ranked combinations. Lower log10 p-values are better: the one-sided Fisher test of the network's buys "
      "against the base rate, median over each combination's reruns.</p>\n<h2 id=\"best\">Best combinations</h2>\n" +
      "<div class=\"wide\">\n" + results_summary(data) + "</div>\n<p>Plots:</p>\n<ul>\n";
  for (const ReportPlot& plot : report.plots)
    html += "<li><a href=\"#" + plot.id + "\">" + html_escaped(plot.title) + "</a></li>\n";
  html += "</ul>\n";
  for (const std::string& note : report.notes) html += "<p class=\"note\">" + html_escaped(note) + "</p>\n";
  for (const ReportPlot& plot : report.plots) {
    html += "<section>\n<h2 id=\"" + plot.id + "\">" + html_escaped(plot.title) + "</h2>\n<figure>\n<img alt=\"" +
            html_escaped(plot.title) + "\" src=\"data:image/svg+xml;base64," + base64(plot.svg) + "\">\n<figcaption>" +
            html_escaped(plot.caption) + "</figcaption>\n</figure>\n</section>\n";
  }
  return html + "</body>\n</html>\n";
}

}  // namespace

StudyReport make_study_report(const std::filesystem::path& study) {
  const StudyData data = read_study(study);
  StudyReport report;
  report.plots.push_back(p_value_distribution(data));
  std::vector<std::string> constant;
  for (std::size_t k = 0; k < data.keys.size(); ++k) {
    const std::vector<std::string> values = ordered_values(data, k);
    if (values.size() > 1) {
      report.plots.push_back(hyperparameter_panel(data, k, values));
    } else {
      constant.push_back(data.keys[k] + " = " + values.front());
    }
  }
  if (!constant.empty()) {
    std::string list;
    for (const std::string& c : constant) list += (list.empty() ? "" : ", ") + c;
    report.notes.push_back("One value only, so no panel: " + list + ".");
  }
  try {
    report.plots.push_back(rerun_spread(data, read_training_rows(study / kJournalFileName)));
  } catch (const InputError& e) {
    report.notes.push_back(std::string("No reruns panel: ") + e.what());
  }
  const int validation = data.table.column("val_log10_p_value"), test = data.table.column("test_log10_p_value");
  if (validation >= 0 && test >= 0) {
    report.plots.push_back(validation_against_test(data, validation, test));
  } else {
    report.notes.push_back(
        "No validation against test panel: the results have no val_log10_p_value and "
        "test_log10_p_value columns (the search had no validation rows).");
  }
  try {
    const StoredModels models(study);
    if (models.kept() > 0) {
      report.plots.push_back(winner_loss(models.ensemble(1)));
    } else {
      report.notes.push_back("No training-loss panel: the search kept no trained networks ([output] keep_models = 0).");
    }
  } catch (const InputError& e) {
    report.notes.push_back(std::string("No training-loss panel: ") + e.what());
  }
  report.html = page(study, data, report);
  return report;
}

}  // namespace hf
