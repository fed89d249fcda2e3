// The rows `hyperfuse predict` reads: the model's feature columns (the training file's, without
// its label), optionally an identifier first (a ticker: any cell that is not a number) and a
// 0/1 label last, as D.AT's latest.csv (ticker, 30 closes) or test.csv (30 closes, label).
// The file's layout follows from its column count against the model's feature count; every
// other rule is the training data's (docs/DATA.md), with the same located messages.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "host/data/labelled_table.hpp"

namespace hf {

struct PredictionRows {
  LabelledTable table;                   // the features as read; labels when the file has them
  std::vector<std::string> identifiers;  // per row, when the file has them
  std::vector<long long> lines;          // each row's line number in the file
  bool has_identifiers = false;
  bool has_labels = false;
};

// Reads `path` for a model of `features` inputs. Throws InputError at file:line:column for a
// missing or empty file, a column count that fits none of the four layouts, a ragged row, a
// feature that is not a finite number, an empty identifier or a label other than 0 and 1.
PredictionRows read_prediction_rows(const std::filesystem::path& path, int features);

}  // namespace hf
