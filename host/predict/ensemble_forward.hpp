// A kept combination applied to rows: every rerun's network evaluated by the CPU backend's
// forward pass, exactly as training evaluated it on the test set (evaluation mode: no dropout,
// RReLU's mean slope; the same fixed-size batches), and the ensemble's probability, the mean
// of the reruns' sigmoid outputs.
#pragma once

#include <vector>

#include "host/data/standard_scaler.hpp"
#include "host/journal/stored_models.hpp"

namespace hf {

// Per rerun of `ensemble`, each row's sigmoid output; `rows` is scaled as in training.
std::vector<std::vector<float>> rerun_probabilities(const StoredEnsemble& ensemble, const Dataset& rows);

// Each row's mean over the reruns' outputs, in double precision.
std::vector<double> ensemble_probabilities(const std::vector<std::vector<float>>& per_rerun);

}  // namespace hf
