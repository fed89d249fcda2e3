// The data a search reads, loaded and checked as its config says: the training rows, the
// validation rows the search ranks on (a tail of the training file after an embargo gap, or a
// file of their own) and the test rows, all standardised with statistics of the training rows
// alone, so nothing about the validation or test rows leaks into training.
#pragma once

#include <string>

#include "host/config/search_config.hpp"
#include "host/data/standard_scaler.hpp"
#include "host/training/pack_trainer.hpp"

namespace hf {

struct SearchData {
  Dataset train;
  Dataset validation;  // no rows without [data] validation
  Dataset test;
  int embargo_rows = 0;   // training-file rows dropped between the training and validation rows
  StandardScaler scaler;  // fitted on the training rows; predictions apply it to new rows
  // The files' bytes as read, for the study's identity (validation_file: a separate file only).
  std::string train_file;
  std::string validation_file;
  std::string test_file;

  bool has_validation() const { return validation.rows > 0; }
  // The rows the search ranks on, and the test rows apart when those are not the same.
  EvaluationSets evaluation() const {
    return has_validation() ? EvaluationSets{&validation, &test} : EvaluationSets{&test, nullptr};
  }
  const Dataset& ranking() const { return has_validation() ? validation : test; }
};

// Reads every data file once, splits off the validation rows and scales. Throws InputError
// naming the file (and line) or the config key, with a fix, for anything unusable.
SearchData load_search_data(const SearchConfig& config);

// How many of `rows` training-file rows a validation fraction holds out: round(fraction x rows).
int validation_row_count(double fraction, int rows);

}  // namespace hf
