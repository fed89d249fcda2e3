#include "host/run/run_search.hpp"

#include <chrono>
#include <map>
#include <optional>

#include "host/common/errors.hpp"
#include "host/journal/study_journal.hpp"
#include "host/report/atomic_file.hpp"
#include "host/report/results_csv.hpp"
#include "host/run/memory_plan.hpp"
#include "host/run/resumed_results.hpp"
#include "host/run/successive_halving.hpp"
#include "host/scoring/search_significance.hpp"
#include "host/training/steps_per_launch.hpp"
#include "kernels/backend/parameter_layout.hpp"

namespace hf {
namespace {

// Fails now, not after hours of training, when results could not be written.
void check_output_dir(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw InputError(dir.string() + ": cannot create the output folder (" + error.message() +
                     "); set [output] dir or --output-dir to a writable folder");
  }
  const std::filesystem::path probe = dir / ".hyperfuse-write-test";
  try {
    write_file_atomically(probe, "");
  } catch (const std::exception& e) {
    throw InputError(dir.string() +
                     ": the output folder is not writable; set [output] dir or --output-dir to a writable folder");
  }
  std::filesystem::remove(probe, error);
}

std::vector<std::string> axis_keys(const SearchConfig& config) {
  std::vector<std::string> keys;
  for (const HyperparameterAxis& axis : config.search.axes) keys.emplace_back(key_name(axis.key));
  return keys;
}

JournalEntry journal_entry(const SearchConfig& config, const SearchPlan& plan, bool has_validation,
                           std::size_t training, const TrainingResult& result) {
  const PlannedTraining& t = plan.trainings[training];
  const PlannedCombination& c = plan.combinations[t.combination];
  JournalEntry e;
  e.combination = c.number;
  e.rerun = t.rerun;
  e.seed = t.seed;
  for (std::size_t a = 0; a < plan.axes.size(); ++a) e.values.push_back(value_of(plan, c, a).text);
  e.failed = result.outcome.failed;
  e.error = result.outcome.error;
  e.counts = result.outcome.counts;
  e.score = result.score;
  if (has_validation) e.test_counts = result.outcome.test_counts;
  if (!result.outcome.failed) e.predicted_positives = result.outcome.predicted_positives.to_bytes();
  e.seconds = result.outcome.seconds;
  e.device = result.device;
  e.parameters = result.outcome.parameters;
  e.epoch_losses = result.outcome.epoch_losses;
  return e;
}

// The ranked combinations as the journal keeps their models: number, score, what predict
// rebuilds the networks from (activation, widths) and every hyperparameter's value.
std::vector<KeptCombination> ranked_for_keeping(const SearchConfig& config, const SearchPlan& plan,
                                                const SearchResults& results, int input_width) {
  std::vector<KeptCombination> ranked;
  for (const RankedCombination& r : results.ranked) {
    const PlannedCombination& c = plan.combinations[r.combination];
    KeptCombination k;
    k.combination = c.number;
    k.p_value = r.p_value;
    k.log10_p_value = r.log10_p_value;
    k.activation = c.settings.activation;
    k.widths = layer_widths(input_width, c.settings.hidden_multiples);
    for (std::size_t a = 0; a < plan.axes.size(); ++a) {
      k.hyperparameters.emplace_back(key_name(plan.axes[a].key), value_of(plan, c, a).text);
    }
    ranked.push_back(std::move(k));
  }
  return ranked;
}

ModelInputs model_inputs(const SearchConfig& config, const StandardScaler& scaler) {
  ModelInputs inputs;
  inputs.mean = scaler.mean();
  inputs.scale = scaler.scale();
  inputs.factor = scaler.factor();
  inputs.prediction_threshold = config.search.prediction_threshold;
  return inputs;
}

// The results an earlier run of this study committed. Scores are recomputed from the counts,
// exactly as a run that never stopped computes them. `ranking_rows`: the rows the stored
// predictions cover.
std::vector<TrainingResult> resumed_results(const SearchPlan& plan, const StudyJournal& journal, int ranking_rows) {
  const TrainingIndex index = index_trainings(plan);
  std::vector<TrainingResult> results(plan.trainings.size());
  for (const JournalEntry& e : journal.finished()) {
    results[training_of(index, plan, e, journal.path())] = journal_result(e, ranking_rows, journal.path());
  }
  return results;
}

}  // namespace

SearchSummary run_search(const SearchConfig& config, const SearchOptions& options, const PlanCallback& on_plan,
                         const ProgressCallback& progress) {
  const auto started = std::chrono::steady_clock::now();
  max_steps_per_launch_from_environment();  // a bad value stops here, before any data is read
  PreparedSearch prepared = prepare_search(config);
  SearchSummary summary;
  summary.device_notice = prepared.device.notice;
  // Under MPI the worker ranks fit their own threads to their own memory.
  if (!options.execute) {
    const MemoryFit fit = fit_to_memory(config, prepared, estimate_memory(prepared), host_memory());
    prepared.threads = fit.threads;
    summary.memory_notice = fit.notice;
  }
  check_output_dir(config.output_dir);

  summary.backend = options.executor_name.empty() ? prepared.backend : options.executor_name;
  summary.threads = prepared.threads;
  if (prepared.device.device == Device::Cuda) summary.workers_per_gpu = prepared.device.workers_per_gpu;
  summary.input_width = prepared.train.features;
  summary.train_rows = prepared.train.rows;
  summary.validation_rows = prepared.validation.rows;
  summary.embargo_rows = prepared.embargo_rows;
  summary.test_rows = prepared.test.rows;
  summary.plan = prepared.plan;
  summary.results_path = config.output_dir / kResultsFileName;
  summary.errors_path = config.output_dir / kErrorsFileName;

  StudyJournal journal(config.output_dir, prepared.identity, axis_keys(config), options.fresh, config.search.halving());
  summary.journal_path = journal.path();
  PackRunOptions run;
  run.threads = summary.threads;
  run.make_backend = prepared.make_backend;
  run.should_stop = options.should_stop;
  run.progress = progress;
  const auto entry_of = [&](std::size_t training, const TrainingResult& result) {
    return journal_entry(config, summary.plan, prepared.has_validation(), training, result);
  };

  std::vector<TrainingResult> results;
  std::optional<SuccessiveHalving> halving;  // outlives the search p-values, which read its rungs
  std::vector<std::vector<const RowBitset*>> earlier_rungs;
  if (config.search.halving()) {
    halving.emplace(config, prepared, journal);
    summary.rungs = halving->rungs();
    summary.trainings_total = halving->trainings_total();
    summary.trainings_resumed = halving->trainings_resumed();
    if (on_plan) on_plan(summary);
    halving->run(options.execute, run, entry_of);
    results = halving->last_results();
    summary.trainings_done = halving->trainings_done();
    summary.stopped = !halving->complete();
    summary.total_flops = halving->flops_trained();
    summary.results = rank_combinations(summary.plan, results, halving->epochs_trained());
    earlier_rungs = halving->earlier_rungs();
  } else {
    results = resumed_results(summary.plan, journal, prepared.ranking().rows);
    const std::vector<TrainingResult> resumed = results;
    for (std::size_t p = 0; p < summary.plan.packs.size(); ++p) {
      for (std::size_t t : summary.plan.packs[p].trainings) {
        if (!resumed[t].done) {
          run.packs.push_back(p);
          break;
        }
      }
    }
    for (const TrainingResult& r : resumed) summary.trainings_resumed += r.done;
    summary.trainings_total = summary.plan.trainings.size();
    summary.total_flops = summary.plan.total_flops;
    if (on_plan) on_plan(summary);

    run.trainings_done_before = summary.trainings_resumed;
    run.on_pack_done = [&](std::size_t p, const std::vector<TrainingResult>& members) {
      std::vector<JournalEntry> entries;
      const std::vector<std::size_t>& trainings = summary.plan.packs[p].trainings;
      for (std::size_t m = 0; m < members.size(); ++m) {
        if (!resumed[trainings[m]].done) entries.push_back(entry_of(trainings[m], members[m]));
      }
      journal.record(std::move(entries));
    };
    if (options.execute) {
      options.execute(prepared, run, results);
    } else {
      run_packs(prepared.plan, prepared.train, prepared.evaluation(), run, results);
    }
    journal.flush();
    // A pack retrained after a resume keeps its members' journal results, so every training's
    // numbers come from its one committed run.
    for (std::size_t t = 0; t < results.size(); ++t) {
      if (resumed[t].done) results[t] = resumed[t];
      summary.trainings_done += results[t].done;
    }
    summary.stopped = summary.trainings_done < results.size();
    summary.results = rank_combinations(summary.plan, results);
  }

  if (config.permutations > 0 && !summary.results.ranked.empty()) {
    const auto permutation_started = std::chrono::steady_clock::now();
    const PermutationTest test{config.permutations, config.permutation_block, config.search.seed,
                               worker_threads(config)};
    add_search_p_values(summary.results.ranked, results, prepared.ranking().y, test, earlier_rungs);
    summary.permutations = config.permutations;
    summary.permutation_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - permutation_started).count();
  }
  if (!summary.stopped) {
    // Complete: only the best combinations' networks stay in the journal.
    summary.models_kept =
        journal.keep_models(ranked_for_keeping(config, summary.plan, summary.results, summary.input_width),
                            config.keep_models, config.search.rerun_count, model_inputs(config, prepared.scaler));
  }
  // A search stopped before anything finished leaves earlier result files as they were.
  if (summary.trainings_done > 0) {
    write_file_atomically(summary.results_path, results_csv(config, summary.plan, summary.results));
    write_file_atomically(summary.errors_path, errors_csv(config, summary.plan, summary.results));
    summary.wrote_results = true;
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace hf
