// The trained networks a study keeps in its journal, so that nothing is retrained to use them:
// while a search runs, every finished training's final parameters and epoch losses (table
// `models`, committed with its row of `trainings`); once it completes, only the reruns of the
// best `[output] keep_models` combinations stay, listed in `kept_models` with their
// hyperparameters, beside the scaler's statistics and the threshold that predictions need.
// `hyperfuse predict`, `export` and `report` read them back through StoredModels.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "kernels/math/codes.hpp"

namespace hf {

// How new rows become network inputs, and when an output counts as positive: the training
// file's StandardScaler statistics and the search's prediction threshold.
struct ModelInputs {
  std::vector<double> mean, scale, factor;  // per feature, as StandardScaler holds them
  double prediction_threshold = 0.5;
  int features() const { return static_cast<int>(mean.size()); }
};

// A ranked combination whose models the journal should keep when the search completes.
struct KeptCombination {
  std::uint64_t combination = 0;  // the combination's number in the full grid
  double p_value = 1.0;           // median over the reruns
  double log10_p_value = 0.0;
  Activation activation = Activation::ReLU;
  std::vector<int> widths;                                           // input, hidden..., 1
  std::vector<std::pair<std::string, std::string>> hyperparameters;  // key, value as the config wrote it
};

// One kept combination with every rerun's trained network: what predict and export apply.
struct StoredEnsemble : KeptCombination {
  int rank = 0;                                   // 1 = best
  std::vector<int> reruns;                        // 1-based, as in the CSV
  std::vector<std::vector<float>> parameters;     // per rerun: ParameterLayout(widths).used floats
  std::vector<std::vector<double>> epoch_losses;  // per rerun: mean training loss of each epoch
};

// The journal's model tables, for StudyJournal (the writer).
void create_model_tables(sqlite3* db);
// The statement that stores one training's network: (combination, rerun, parameters, epoch_losses).
// A halving training's network of a later rung replaces the earlier one's.
inline constexpr const char* kInsertModelSql =
    "INSERT OR REPLACE INTO models (combination, rerun, parameters, epoch_losses) VALUES (?, ?, ?, ?)";
// Keeps the networks of `ranked` (best first) up to `keep` combinations whose `reruns` reruns
// all have one, deletes every other network, and records `inputs`: one transaction. Returns
// how many combinations were kept (fewer than asked when an earlier run kept no weights).
// `completed_at` (UTC, ISO 8601) marks the search complete.
int keep_top_models(sqlite3* db, const std::vector<KeptCombination>& ranked, int keep, int reruns,
                    const ModelInputs& inputs, const std::string& completed_at);

// A finished study's kept models, read from DIR/study.sqlite (read only).
class StoredModels {
 public:
  // InputError when the folder has no journal, the journal is not one of this version, or its
  // search has not completed.
  explicit StoredModels(const std::filesystem::path& study_dir);
  ~StoredModels();
  StoredModels(const StoredModels&) = delete;
  StoredModels& operator=(const StoredModels&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const ModelInputs& inputs() const { return inputs_; }
  int kept() const { return kept_; }  // ranks 1..kept have models
  // The combination ranked `rank`; InputError naming the valid ranks when it has no models.
  StoredEnsemble ensemble(int rank) const;

 private:
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  ModelInputs inputs_;
  int kept_ = 0;
};

// "30-60-90-1": layer widths as the journal and messages write them.
std::string widths_text(const std::vector<int>& widths);

}  // namespace hf
