#include "host/journal/stored_models.hpp"

#include <cstdlib>
#include <stdexcept>

#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"
#include "host/journal/sqlite_statement.hpp"
#include "host/journal/study_journal.hpp"
#include "kernels/backend/parameter_layout.hpp"

namespace hf {
namespace {

void execute(sqlite3* db, const std::string& sql, const std::string& what) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string reason = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw std::runtime_error("study journal: cannot " + what + ": " + reason);
  }
}

std::vector<int> parse_widths(const std::string& text) {
  std::vector<int> widths;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t dash = text.find('-', start);
    widths.push_back(std::stoi(text.substr(start, dash == std::string::npos ? std::string::npos : dash - start)));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  return widths;
}

Activation activation_named(const std::string& name) {
  for (int a = 0; a < kActivationCount; ++a) {
    if (name == kActivationNames[a]) return static_cast<Activation>(a);
  }
  throw std::runtime_error("study journal: unknown activation '" + name + "' among the kept models");
}

// A journal_info value, or "" when the key is absent.
std::string info_value(sqlite3* db, const std::string& key) {
  Statement select(db, "SELECT value FROM journal_info WHERE key = ?");
  select.bind(1, key);
  return select.step() ? select.text(0) : "";
}

}  // namespace

std::string widths_text(const std::vector<int>& widths) {
  std::string text;
  for (int w : widths) text += (text.empty() ? "" : "-") + std::to_string(w);
  return text;
}

void create_model_tables(sqlite3* db) {
  execute(db,
          "CREATE TABLE models (combination TEXT NOT NULL, rerun INTEGER NOT NULL, parameters BLOB NOT NULL, "
          "epoch_losses BLOB NOT NULL, PRIMARY KEY (combination, rerun));"
          "CREATE TABLE kept_models (rank INTEGER PRIMARY KEY, combination TEXT NOT NULL UNIQUE, p_value REAL NOT "
          "NULL, log10_p_value REAL NOT NULL, activation TEXT NOT NULL, layer_widths TEXT NOT NULL);"
          "CREATE TABLE kept_hyperparameters (rank INTEGER NOT NULL, position INTEGER NOT NULL, key TEXT NOT NULL, "
          "value TEXT NOT NULL, PRIMARY KEY (rank, position));"
          "CREATE TABLE scaler (feature INTEGER PRIMARY KEY, mean REAL NOT NULL, scale REAL NOT NULL, factor REAL NOT "
          "NULL);",
          "create the model tables");
}

int keep_top_models(sqlite3* db, const std::vector<KeptCombination>& ranked, int keep, int reruns,
                    const ModelInputs& inputs, const std::string& completed_at) {
  execute(db, "BEGIN IMMEDIATE", "write the kept models");
  int kept = 0;
  try {
    execute(db, "DELETE FROM kept_models; DELETE FROM kept_hyperparameters; DELETE FROM scaler;",
            "write the kept models");
    Statement count(db, "SELECT count(*) FROM models WHERE combination = ?");
    Statement insert(db,
                     "INSERT INTO kept_models (rank, combination, p_value, log10_p_value, activation, layer_widths) "
                     "VALUES (?, ?, ?, ?, ?, ?)");
    Statement insert_value(db, "INSERT INTO kept_hyperparameters (rank, position, key, value) VALUES (?, ?, ?, ?)");
    for (const KeptCombination& c : ranked) {
      if (kept >= keep) break;
      count.bind(1, std::to_string(c.combination));
      count.step();
      const std::int64_t stored = count.integer(0);
      count.reset();
      // Ranks stay contiguous: a combination without all its networks (trained by a run that
      // kept none) ends the list.
      if (stored != reruns) break;
      ++kept;
      insert.bind(1, static_cast<std::int64_t>(kept));
      insert.bind(2, std::to_string(c.combination));
      insert.bind(3, c.p_value);
      insert.bind(4, c.log10_p_value);
      insert.bind(5, std::string(kActivationNames[static_cast<int>(c.activation)]));
      insert.bind(6, widths_text(c.widths));
      insert.step();
      insert.reset();
      for (std::size_t k = 0; k < c.hyperparameters.size(); ++k) {
        insert_value.bind(1, static_cast<std::int64_t>(kept));
        insert_value.bind(2, static_cast<std::int64_t>(k));
        insert_value.bind(3, c.hyperparameters[k].first);
        insert_value.bind(4, c.hyperparameters[k].second);
        insert_value.step();
        insert_value.reset();
      }
    }
    execute(db, "DELETE FROM models WHERE combination NOT IN (SELECT combination FROM kept_models)",
            "delete the models not kept");
    Statement scaler(db, "INSERT INTO scaler (feature, mean, scale, factor) VALUES (?, ?, ?, ?)");
    for (int f = 0; f < inputs.features(); ++f) {
      scaler.bind(1, static_cast<std::int64_t>(f));
      scaler.bind(2, inputs.mean[f]);
      scaler.bind(3, inputs.scale[f]);
      scaler.bind(4, inputs.factor[f]);
      scaler.step();
      scaler.reset();
    }
    Statement info(db, "INSERT OR REPLACE INTO journal_info (key, value) VALUES (?, ?)");
    const std::pair<const char*, std::string> rows[] = {
        {"prediction_threshold", python_float_repr(inputs.prediction_threshold)},
        {"keep_models", std::to_string(keep)},
        {"search_completed_at", completed_at}};
    for (const auto& [key, value] : rows) {
      info.bind(1, std::string(key));
      info.bind(2, value);
      info.step();
      info.reset();
    }
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  execute(db, "COMMIT", "commit the kept models");
  // Give the deleted networks' pages back to the file system (auto_vacuum is incremental).
  execute(db, "PRAGMA incremental_vacuum", "shrink the journal");
  return kept;
}

StoredModels::StoredModels(const std::filesystem::path& study_dir) : path_(study_dir / kJournalFileName) {
  const std::string dir = study_dir.string();
  if (!std::filesystem::is_directory(study_dir)) {
    throw InputError(dir +
                     ": no such folder; give --study the output folder of a search (its [output] dir or "
                     "--output-dir)");
  }
  if (!std::filesystem::exists(path_)) {
    throw InputError(dir + ": holds no study journal (" + kJournalFileName +
                     "); give --study the output folder of a search (its [output] dir or --output-dir), or run "
                     "`hyperfuse run` first");
  }
  db_ = open_journal_for_reading(path_);
  if (db_ == nullptr) throw InputError(path_.string() + ": cannot open the study journal; check its permissions");
  try {
    Statement has_info(db_, "SELECT count(*) FROM sqlite_master WHERE name = 'journal_info'");
    has_info.step();
    if (has_info.integer(0) == 0) throw InputError(path_.string() + ": is not a hyperfuse study journal");
    const std::string version = info_value(db_, "schema_version");
    if (version != std::to_string(kJournalSchemaVersion)) {
      const bool earlier = std::atoi(version.c_str()) < kJournalSchemaVersion;
      throw InputError(path_.string() + ": a study journal of schema version " + version + ", written by " +
                       (earlier ? "an earlier" : "a later") + " hyperfuse; this one reads version " +
                       std::to_string(kJournalSchemaVersion) +
                       ". Run the search again with this hyperfuse (hyperfuse run CONFIG --fresh) to keep its models");
    }
    if (info_value(db_, "search_completed_at").empty()) {
      throw InputError(path_.string() +
                       ": its search has not completed, so no models were chosen yet; run the same `hyperfuse run` "
                       "command again to finish it (it resumes where it stopped)");
    }
    inputs_.prediction_threshold = std::stod(info_value(db_, "prediction_threshold"));
    Statement scaler(db_, "SELECT mean, scale, factor FROM scaler ORDER BY feature");
    while (scaler.step()) {
      inputs_.mean.push_back(scaler.real(0));
      inputs_.scale.push_back(scaler.real(1));
      inputs_.factor.push_back(scaler.real(2));
    }
    Statement kept(db_, "SELECT count(*) FROM kept_models");
    kept.step();
    kept_ = static_cast<int>(kept.integer(0));
  } catch (const InputError&) {
    sqlite3_close(db_);
    throw;
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    throw InputError(path_.string() + ": is not a readable hyperfuse study journal (" + e.what() +
                     "); give --study the output folder of a search");
  }
}

StoredModels::~StoredModels() { sqlite3_close(db_); }

StoredEnsemble StoredModels::ensemble(int rank) const {
  if (kept_ == 0) {
    throw InputError(path_.string() +
                     ": the search kept no models ([output] keep_models = 0, or an earlier run of it kept none); set "
                     "[output] keep_models to how many of the best combinations to keep and run the search again with "
                     "--fresh");
  }
  if (rank < 1 || rank > kept_) {
    throw InputError("--rank " + std::to_string(rank) + ": " + path_.string() + " keeps the models of rank" +
                     (kept_ == 1 ? " 1 only" : "s 1 to " + std::to_string(kept_)) +
                     " ([output] keep_models); give a rank in that range, or raise keep_models and run the search "
                     "again with --fresh");
  }
  StoredEnsemble e;
  e.rank = rank;
  Statement row(db_,
                "SELECT combination, p_value, log10_p_value, activation, layer_widths FROM kept_models WHERE rank = ?");
  row.bind(1, static_cast<std::int64_t>(rank));
  if (!row.step()) throw std::runtime_error(path_.string() + ": kept model " + std::to_string(rank) + " is missing");
  e.combination = std::stoull(row.text(0));
  e.p_value = row.real(1);
  e.log10_p_value = row.real(2);
  e.activation = activation_named(row.text(3));
  e.widths = parse_widths(row.text(4));
  Statement values(db_, "SELECT key, value FROM kept_hyperparameters WHERE rank = ? ORDER BY position");
  values.bind(1, static_cast<std::int64_t>(rank));
  while (values.step()) e.hyperparameters.emplace_back(values.text(0), values.text(1));
  const std::size_t used = ParameterLayout(e.widths).used;
  Statement networks(db_, "SELECT rerun, parameters, epoch_losses FROM models WHERE combination = ? ORDER BY rerun");
  networks.bind(1, std::to_string(e.combination));
  while (networks.step()) {
    e.reruns.push_back(static_cast<int>(networks.integer(0)));
    e.parameters.push_back(networks.blob<float>(1));
    e.epoch_losses.push_back(networks.blob<double>(2));
    if (e.parameters.back().size() != used) {
      throw std::runtime_error(path_.string() + ": the stored network of rank " + std::to_string(rank) + ", rerun " +
                               std::to_string(e.reruns.back()) + " has " + std::to_string(e.parameters.back().size()) +
                               " parameters where its widths " + widths_text(e.widths) + " need " +
                               std::to_string(used) + " (a damaged journal?)");
    }
  }
  if (e.reruns.empty())
    throw std::runtime_error(path_.string() + ": kept model " + std::to_string(rank) + " has no networks");
  return e;
}

}  // namespace hf
