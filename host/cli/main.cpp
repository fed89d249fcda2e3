// hyperfuse's entry point: parses the command, runs it, and turns every error into a message
// and an exit status (2: the user must fix usage, config or data; 1: runtime failure).
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "host/cli/benchmark.hpp"
#include "host/cli/command_line.hpp"
#include "host/cli/devices_report.hpp"
#include "host/cli/plan_report.hpp"
#include "host/cli/progress_line.hpp"
#include "host/cli/seed_conversion.hpp"
#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"
#include "host/data/synthetic_data.hpp"
#include "host/distributed/launch_environment.hpp"
#include "host/export/onnx_export.hpp"
#include "host/predict/buy_list.hpp"
#include "host/report/atomic_file.hpp"
#include "host/run/interruption.hpp"
#include "host/run/machine_memory.hpp"
#include "host/run/memory_plan.hpp"
#include "host/run/run_search.hpp"
#include "host/study_report/study_report.hpp"
#include "kernels/backend_registry.hpp"

#if HYPERFUSE_HAVE_MPI
#include "host/distributed/mpi_session.hpp"
#include "host/distributed/pack_coordinator.hpp"
#include "host/distributed/pack_worker.hpp"
#endif

#ifndef HYPERFUSE_VERSION
#define HYPERFUSE_VERSION "unknown"
#endif

namespace hf {

class MpiSession;

namespace {

// "Best combination (median precision p-value ...):": which rows each p-value comes from, and
// the one that accounts for the search (docs/SIGNIFICANCE.md).
void print_best_headline(const RankedCombination& best, const SearchSummary& s) {
  const std::string search =
      best.search_p_value >= 0.0 ? ", search p-value " + python_float_repr(best.search_p_value) : "";
  if (s.validation_rows > 0) {
    std::printf("Best combination (median precision p-value on validation %s, log10 %s%s; on test %s, log10 %s):\n",
                python_float_repr(best.p_value).c_str(), python_float_repr(best.log10_p_value).c_str(), search.c_str(),
                python_float_repr(best.test_p_value).c_str(), python_float_repr(best.test_log10_p_value).c_str());
  } else {
    std::printf("Best combination (median precision p-value %s, log10 %s%s):\n",
                python_float_repr(best.p_value).c_str(), python_float_repr(best.log10_p_value).c_str(), search.c_str());
  }
}

void print_best(const SearchConfig& config, const SearchSummary& s) {
  if (!s.wrote_results) {
    std::printf("Stopped before any training finished; no result files were written\n");
    return;
  }
  if (s.stopped) {
    std::printf(
        "Results (partial: %zu of %zu trainings done; run the same command again to resume): %s (%zu ranked "
        "combinations, %zu unfinished)\n",
        s.trainings_done, s.trainings_total, s.results_path.string().c_str(), s.results.ranked.size(),
        s.results.unfinished_combinations);
  } else {
    std::printf("Results: %s (%zu ranked combinations)\n", s.results_path.string().c_str(), s.results.ranked.size());
  }
  if (!s.results.failures.empty()) {
    std::printf("Failed trainings: %zu, listed in %s\n", s.results.failures.size(), s.errors_path.string().c_str());
  }
  if (s.results.ranked.empty()) {
    std::printf("No combination finished all its reruns%s\n",
                s.results.failures.empty() ? "" : ("; see " + s.errors_path.string()).c_str());
    return;
  }
  const RankedCombination& best = s.results.ranked.front();
  const PlannedCombination& combination = s.plan.combinations[best.combination];
  print_best_headline(best, s);
  for (std::size_t a = 0; a < config.search.axes.size(); ++a) {
    std::printf("  %-22s %s\n", key_name(config.search.axes[a].key), value_of(s.plan, combination, a).text.c_str());
  }
  const ConfusionCounts& c = best.representative_counts;
  std::printf("  precision %.4f (tp %lld, fp %lld, fn %lld, tn %lld) in its median rerun%s\n",
              best.representative_score.precision, static_cast<long long>(c.tp), static_cast<long long>(c.fp),
              static_cast<long long>(c.fn), static_cast<long long>(c.tn),
              s.validation_rows > 0 ? " on validation" : "");
  if (s.validation_rows > 0) {
    const ConfusionCounts& t = best.test_representative_counts;
    std::printf("  precision %.4f (tp %lld, fp %lld, fn %lld, tn %lld) in its median rerun on test\n",
                best.test_representative_score.precision, static_cast<long long>(t.tp), static_cast<long long>(t.fp),
                static_cast<long long>(t.fn), static_cast<long long>(t.tn));
  }
}

// Said once per run without validation rows: the rows that choose the winner also judge it.
void note_shared_test_rows() {
  std::fprintf(stderr,
               "hyperfuse: note: no [data] validation, so the test rows both choose the best combination and "
               "report its p-value, which flatters it; set [data] validation to rank on held-out rows "
               "(docs/SIGNIFICANCE.md)\n");
}

// The permutation test's time beside the whole run's: it must stay a small share.
void print_permutation_time(const SearchSummary& s) {
  std::fprintf(stderr, "hyperfuse: search p-values from %d label permutations in %.2f s (%.1f%% of the run's %.1f s)\n",
               s.permutations, s.permutation_seconds, 100.0 * s.permutation_seconds / s.seconds, s.seconds);
}

// Successive halving's rungs, for the plan lines: how long and how many train each.
void print_rungs(const SearchSummary& s) {
  std::string epochs, candidates;
  for (const HalvingRung& r : s.rungs) {
    epochs += (epochs.empty() ? "" : ", ") + std::to_string(r.epochs);
    candidates += (candidates.empty() ? "" : ", ") + std::to_string(r.candidates);
  }
  std::fprintf(stderr,
               "hyperfuse: successive halving: rungs at %s epochs for up to %s candidates (%zu trainings in all)\n",
               epochs.c_str(), candidates.c_str(), s.trainings_total);
}

// The rows a search trains, ranks and reports on, for the plan line.
std::string rows_text(const SearchSummary& s) {
  if (s.validation_rows == 0) return std::to_string(s.train_rows) + " train / " + std::to_string(s.test_rows) + " test";
  return std::to_string(s.train_rows) + " train / " +
         (s.embargo_rows > 0 ? std::to_string(s.embargo_rows) + " embargo / " : "") +
         std::to_string(s.validation_rows) + " validation / " + std::to_string(s.test_rows) + " test";
}

// Where a completed search keeps its trained networks, or why fewer than asked.
void print_kept_models(const SearchConfig& config, const SearchSummary& s) {
  if (s.stopped || config.keep_models == 0) return;
  const std::size_t wanted =
      std::min<std::size_t>(static_cast<std::size_t>(config.keep_models), s.results.ranked.size());
  if (s.models_kept > 0) {
    std::printf(
        "Trained networks of the best %d combinations kept in %s (hyperfuse predict, export, report --study %s)\n",
        s.models_kept, s.journal_path.string().c_str(), config.output_dir.string().c_str());
  }
  if (static_cast<std::size_t>(s.models_kept) < wanted) {
    std::fprintf(stderr,
                 "hyperfuse: the journal holds the trained networks of only %d of the best %zu combinations (an "
                 "earlier run of this study kept fewer: [output] keep_models); run with --fresh to train and keep "
                 "them\n",
                 s.models_kept, wanted);
  }
}

SearchConfig config_of(const RunArguments& args) {
  SearchConfig config = load_search_config(args.config);
  apply_overrides(args, config);
  return config;
}

// The version and what this binary can train on: its backends and whether it has MPI.
std::string version_text() {
  std::string text = std::string("hyperfuse ") + HYPERFUSE_VERSION + "\n";
  for (const BackendEntry& backend : registered_backends())
    text += "backend " + backend.name + ": " + backend.description + "\n";
#if HYPERFUSE_HAVE_MPI
  text += "MPI: " + mpi_library_version() + "\n";
#else
  text += "MPI: not built in (install libopenmpi-dev and rebuild)\n";
#endif
  return text;
}

// `mpi`: this process is rank 0 of an MPI job with worker ranks, which train the packs.
int run_command(const RunArguments& args, MpiSession* mpi) {
  const SearchConfig config = config_of(args);
  const bool show_progress = !args.quiet && ::isatty(STDERR_FILENO);
  ProgressLine progress(show_progress);
  const auto on_plan = [&](const SearchSummary& s) {
    // Said even when quiet: the search runs differently from what was asked.
    if (!s.device_notice.empty()) std::fprintf(stderr, "%s\n", s.device_notice.c_str());
    if (!s.memory_notice.empty()) std::fprintf(stderr, "%s\n", s.memory_notice.c_str());
    if (args.quiet) return;
    // Under MPI the workers' threads are their own; rank 0 names the ranks instead.
    const std::string per_gpu = s.workers_per_gpu > 1 ? ", " + std::to_string(s.workers_per_gpu) + " per GPU" : "";
    const std::string where =
        mpi ? s.backend : s.backend + " (" + std::to_string(s.threads) + " threads" + per_gpu + ")";
    std::fprintf(stderr, "hyperfuse: %zu combinations x %d reruns = %zu trainings on %s, %s rows of %d features\n",
                 s.plan.combinations.size(), config.search.rerun_count, s.plan.trainings.size(), where.c_str(),
                 rows_text(s).c_str(), s.input_width);
    if (!s.rungs.empty()) print_rungs(s);
    if (s.validation_rows == 0) note_shared_test_rows();
    if (s.trainings_resumed > 0) {
      std::fprintf(stderr, "hyperfuse: resuming the study in %s: %zu of %zu trainings already done\n",
                   s.journal_path.string().c_str(), s.trainings_resumed, s.trainings_total);
    }
  };
  SearchOptions options;
  options.fresh = args.fresh;
  options.should_stop = [] { return interruption_signal() != 0; };
#if HYPERFUSE_HAVE_MPI
  if (mpi) {
    CoordinatorOptions coordinator;
    coordinator.worker_timeout = worker_timeout_from_environment();
    coordinator.warn = [&](const std::string& text) {
      progress.finish();
      std::fprintf(stderr, "hyperfuse: %s\n", text.c_str());
    };
    options.execute = coordinate_workers(*mpi, coordinator);
    options.executor_name = std::to_string(mpi->size() - 1) + " MPI worker ranks";
  }
#endif
  InterruptionGuard interruption;
  const SearchSummary summary =
      run_search(config, options, on_plan, [&](std::size_t done, std::size_t total) { progress.update(done, total); });
  progress.finish();
  const std::size_t trained = summary.trainings_done - summary.trainings_resumed;
  if (!args.quiet && trained > 0) {
    std::fprintf(stderr, "hyperfuse: %zu trainings in %.1f s (%.1f trainings/s", trained, summary.seconds,
                 trained / summary.seconds);
    // GFLOP/s only for a whole search: packs differ in cost, so a part's share is unknown.
    if (trained == summary.trainings_total) {
      std::fprintf(stderr, ", %.2f GFLOP/s", summary.total_flops / summary.seconds / 1e9);
    }
    std::fprintf(stderr, ")\n");
  }
  if (!args.quiet && summary.permutations > 0) print_permutation_time(summary);

  print_best(config, summary);
  print_kept_models(config, summary);
  if (summary.stopped) {
    const int signal = interruption_signal();
    std::fprintf(stderr, "hyperfuse: stopped by %s; %zu finished trainings are in %s\n",
                 signal == SIGTERM ? "SIGTERM" : "Ctrl-C", summary.trainings_done,
                 summary.journal_path.string().c_str());
    return interrupted_exit_status(signal == 0 ? SIGINT : signal);
  }
  return 0;
}

// The plan and its memory, printed before anything is trained or written; exit status 2 after
// the plan when a combination cannot fit, as the run would be refused.
int dry_run_command(const RunArguments& args) {
  const SearchConfig config = config_of(args);
  const PreparedSearch prepared = prepare_search(config);
  const MemoryEstimate estimate = estimate_memory(prepared);
  const HostMemory host = host_memory();
  std::optional<MemoryFit> fit;
  std::optional<InputError> refusal;
  try {
    fit = fit_to_memory(config, prepared, estimate, host);
  } catch (const InputError& e) {
    refusal = e;
  }
  std::fputs(plan_report(config, prepared, estimate, host, fit).c_str(), stdout);
  std::fflush(stdout);
  if (refusal) throw *refusal;
  if (!prepared.device.notice.empty()) std::fprintf(stderr, "%s\n", prepared.device.notice.c_str());
  if (!fit->notice.empty()) std::fprintf(stderr, "%s\n", fit->notice.c_str());
  return 0;
}

int make_data_command(const MakeDataArguments& args) {
  SyntheticDataOptions options;
  options.train_rows = args.train_rows;
  options.test_rows = args.test_rows;
  options.latest_rows = args.latest_rows;
  options.seed = args.seed;
  const SyntheticData data = make_synthetic_data(options);
  std::error_code error;
  std::filesystem::create_directories(args.out_dir, error);
  if (error) throw InputError(args.out_dir.string() + ": cannot create the folder (" + error.message() + ")");
  write_file_atomically(args.out_dir / "train.csv", data.train_csv);
  write_file_atomically(args.out_dir / "test.csv", data.test_csv);
  std::printf("Wrote %s (%d rows, %.1f%% positive) and %s (%d rows, %.1f%% positive)\n",
              (args.out_dir / "train.csv").string().c_str(), args.train_rows, 100.0 * data.train_positive_rate,
              (args.out_dir / "test.csv").string().c_str(), args.test_rows, 100.0 * data.test_positive_rate);
  if (args.latest_rows > 0) {
    write_file_atomically(args.out_dir / "latest.csv", data.latest_csv);
    std::printf("Wrote %s (%d stocks: ticker and last 30 closes, no label)\n",
                (args.out_dir / "latest.csv").string().c_str(), args.latest_rows);
  }
  return 0;
}

int predict_command(const PredictArguments& args) {
  if (args.out) require_file_destination(*args.out, "--out");
  const BuyList list = make_buy_list(args.study, args.rank, args.data);
  if (args.out) {
    write_file_atomically(*args.out, list.csv);
  } else {
    std::fputs(list.csv.c_str(), stdout);
  }
  const StoredEnsemble& m = list.model;
  std::fprintf(stderr,
               "hyperfuse: rank %d of %s (%s, widths %s, mean of %zu reruns; median p-value %s): %d of %d rows are "
               "buys (probability > %s)\n",
               m.rank, args.study.string().c_str(), kActivationNames[static_cast<int>(m.activation)],
               widths_text(m.widths).c_str(), m.reruns.size(), python_float_repr(m.p_value).c_str(), list.buys,
               list.rows, python_float_repr(list.threshold).c_str());
  if (list.against_labels) {
    const ConfusionCounts& c = *list.against_labels;
    const long long buys = c.tp + c.fp;
    std::fprintf(stderr,
                 "hyperfuse: against the file's labels: %lld of %lld buys are labelled 1 (precision %.4f; %lld of %lld "
                 "rows are)\n",
                 static_cast<long long>(c.tp), buys, buys > 0 ? static_cast<double>(c.tp) / buys : 0.0,
                 static_cast<long long>(c.tp + c.fn), static_cast<long long>(c.tp + c.fp + c.fn + c.tn));
  }
  return 0;
}

int export_command(const ExportArguments& args) {
  require_file_destination(args.onnx, "--onnx");
  const StoredModels models(args.study);
  const StoredEnsemble ensemble = models.ensemble(args.rank);
  write_file_atomically(args.onnx, onnx_model(ensemble, models.inputs()));
  std::printf(
      "Wrote %s: rank %d of %s (%s, widths %s, the mean of %zu reruns; input 'features' float32 [rows, %d], "
      "outputs 'probability' and 'buy' [rows])\n",
      args.onnx.string().c_str(), ensemble.rank, args.study.string().c_str(),
      kActivationNames[static_cast<int>(ensemble.activation)], widths_text(ensemble.widths).c_str(),
      ensemble.reruns.size(), models.inputs().features());
  return 0;
}

int report_command(const ReportArguments& args) {
  if (!std::filesystem::is_directory(args.study)) {
    throw InputError(args.study.string() +
                     ": no such folder; give --study the output folder of a search (its [output] dir or --output-dir)");
  }
  const std::filesystem::path out = args.out ? *args.out : args.study / "report.html";
  require_file_destination(out, "--out");
  const StudyReport report = make_study_report(args.study);
  write_file_atomically(out, report.html);
  std::printf("Wrote %s (%zu plots)\n", out.string().c_str(), report.plots.size());
  for (const std::string& note : report.notes) std::printf("  %s\n", note.c_str());
  return 0;
}

// A search in this process, or this process's part of a search across MPI ranks.
int run(const RunArguments& args, int* argc, char*** argv) {
  if (args.dry_run) return dry_run_command(args);  // no MPI: nothing is trained
  const int ranks = ranks_from_launcher();
#if HYPERFUSE_HAVE_MPI
  if (ranks > 1) {
    MpiSession mpi(argc, argv);
    if (mpi.rank() != 0) {
      InterruptionGuard interruption;  // rank 0 decides when to stop; a second Ctrl-C still exits
      return serve_packs(mpi, [&] { return config_of(args); });
    }
    return run_command(args, &mpi);
  }
#else
  if (ranks > 1) {
    throw InputError("started as one of " + std::to_string(ranks) +
                     " ranks (mpirun or srun), but this build of hyperfuse has no MPI support, so every rank would "
                     "run the whole search; install libopenmpi-dev and rebuild (scripts/build.sh), or run hyperfuse "
                     "without mpirun");
  }
#endif
  return run_command(args, nullptr);
}

}  // namespace
}  // namespace hf

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // Arrays of 1 MiB and more (workspaces, initial weights, data) come from the kernel and go
  // back to it when freed. By default glibc raises this threshold to the size of each such
  // array freed, after which a worker's next workspace comes from its heap on top of the last
  // one's memory, and the resident peak of one thread doubles what the memory plan counts.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  try {
    const hf::CommandLine line = hf::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    switch (line.command) {
      case hf::Command::Help: std::fputs(line.help.c_str(), stdout); return 0;
      case hf::Command::Version: std::fputs(hf::version_text().c_str(), stdout); return 0;
      case hf::Command::Run: return hf::run(line.run, &argc, &argv);
      case hf::Command::MakeData: return hf::make_data_command(line.make_data);
      case hf::Command::Predict: return hf::predict_command(line.predict);
      case hf::Command::Export: return hf::export_command(line.export_model);
      case hf::Command::Report: return hf::report_command(line.report);
      case hf::Command::Convert: return hf::convert_seed_config(line.convert);
      case hf::Command::Devices: std::fputs(hf::devices_report(line.devices.config).c_str(), stdout); return 0;
      case hf::Command::Benchmark: return hf::benchmark_command(line.benchmark);
    }
  } catch (const hf::InputError& e) {
    std::fprintf(stderr, "hyperfuse: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    // Training names what it was allocating (OutOfHostMemory); this is loading or planning.
    std::fprintf(stderr,
                 "\nhyperfuse: runtime failure: out of memory outside training (loading the data, planning the "
                 "search or writing its results); check the data files' size, the number of combinations and "
                 "reruns, and the memory other processes use (hyperfuse run --dry-run estimates what a search "
                 "needs)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nhyperfuse: runtime failure: %s\n", e.what());
    return 1;
  }
  return 1;
}
