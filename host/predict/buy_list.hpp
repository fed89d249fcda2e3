// `hyperfuse predict`: a kept combination of a finished search applied to new rows, as a buy
// list. Each row's probability is the mean of the combination's reruns' sigmoid outputs (the
// same ensemble the ONNX export computes), and the row is a buy when that probability exceeds
// the search's prediction_threshold, the rule the search scored every network by.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "host/journal/stored_models.hpp"
#include "kernels/backend/confusion_counts.hpp"

namespace hf {

struct BuyList {
  // "identifier,probability,buy" (or "row,...": the line number when the file has no
  // identifiers), one line per input row, most probable first (file order among equals).
  std::string csv;
  StoredEnsemble model;  // the combination applied
  double threshold = 0.5;
  int rows = 0;
  int buys = 0;
  std::optional<ConfusionCounts> against_labels;  // when the file has a label column
};

// Throws InputError (nothing written) for a missing or unfinished study, a rank without kept
// models, and bad rows (see read_prediction_rows).
BuyList make_buy_list(const std::filesystem::path& study, int rank, const std::filesystem::path& data);

}  // namespace hf
