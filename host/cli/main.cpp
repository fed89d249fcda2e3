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

#include "host/cli/command_line.hpp"
#include "host/cli/plan_report.hpp"
#include "host/cli/progress_line.hpp"
#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"
#include "host/data/synthetic_data.hpp"
#include "host/distributed/launch_environment.hpp"
#include "host/report/atomic_file.hpp"
#include "host/run/interruption.hpp"
#include "host/run/machine_memory.hpp"
#include "host/run/memory_plan.hpp"
#include "host/run/run_search.hpp"
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

void print_best(const SearchConfig& config, const SearchSummary& s) {
  if (!s.wrote_results) {
    std::printf("Stopped before any training finished; no result files were written\n");
    return;
  }
  if (s.stopped) {
    std::printf(
        "Results (partial: %zu of %zu trainings done; run the same command again to resume): %s (%zu ranked "
        "combinations, %zu unfinished)\n",
        s.trainings_done, s.plan.trainings.size(), s.results_path.string().c_str(), s.results.ranked.size(),
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
  std::printf("Best combination (median precision p-value %s, log10 %s):\n", python_float_repr(best.p_value).c_str(),
              python_float_repr(best.log10_p_value).c_str());
  for (std::size_t a = 0; a < config.search.axes.size(); ++a) {
    std::printf("  %-22s %s\n", key_name(config.search.axes[a].key),
                config.search.axes[a].values[combination.values[a]].text.c_str());
  }
  const ConfusionCounts& c = best.representative_counts;
  std::printf("  precision %.4f (tp %lld, fp %lld, fn %lld, tn %lld) in its median rerun\n",
              best.representative_score.precision, static_cast<long long>(c.tp), static_cast<long long>(c.fp),
              static_cast<long long>(c.fn), static_cast<long long>(c.tn));
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
    if (!s.memory_notice.empty()) std::fprintf(stderr, "%s\n", s.memory_notice.c_str());
    if (args.quiet) return;
    // Under MPI the workers' threads are their own; rank 0 names the ranks instead.
    const std::string where = mpi ? s.backend : s.backend + " (" + std::to_string(s.threads) + " threads)";
    std::fprintf(stderr,
                 "hyperfuse: %zu combinations x %d reruns = %zu trainings on %s, %d train / %d test rows of %d "
                 "features\n",
                 s.plan.combinations.size(), config.search.rerun_count, s.plan.trainings.size(), where.c_str(), s.train_rows,
                 s.test_rows, s.input_width);
    if (s.trainings_resumed > 0) {
      std::fprintf(stderr, "hyperfuse: resuming the study in %s: %zu of %zu trainings already done\n",
                   s.journal_path.string().c_str(), s.trainings_resumed, s.plan.trainings.size());
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
    if (trained == summary.plan.trainings.size()) {
      std::fprintf(stderr, ", %.2f GFLOP/s", summary.plan.total_flops / summary.seconds / 1e9);
    }
    std::fprintf(stderr, ")\n");
  }
  print_best(config, summary);
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
  if (!fit->notice.empty()) std::fprintf(stderr, "%s\n", fit->notice.c_str());
  return 0;
}

int make_data_command(const MakeDataArguments& args) {
  SyntheticDataOptions options;
  options.train_rows = args.train_rows;
  options.test_rows = args.test_rows;
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
      case hf::Command::Help: std::fputs(hf::kUsage, stdout); return 0;
      case hf::Command::Version: std::fputs(hf::version_text().c_str(), stdout); return 0;
      case hf::Command::Run: return hf::run(line.run, &argc, &argv);
      case hf::Command::MakeData: return hf::make_data_command(line.make_data);
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
