// hyperfuse_bench: trains the networks a config describes on the CPU trainer and prints
// trainings/s, training steps/s, GFLOP/s and the share of the measured FMA peak (--json for a
// machine-readable line). bench/cpu_vs_pytorch.sh runs it beside the PyTorch baseline.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/fma_peak.hpp"
#include "host/common/errors.hpp"
#include "host/config/search_config.hpp"
#include "host/run/search.hpp"
#include "host/training/pack_trainer.hpp"

int main(int argc, char** argv) {
  std::string config_path = "bench/seed_network.toml";
  int threads = 0;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (arg == "--json")
      json = true;
    else if (arg == "--help") {
      std::puts("usage: hyperfuse_bench [CONFIG] [--threads N] [--json]");
      return 0;
    } else
      config_path = arg;
  }
  try {
    hf::SearchConfig config = hf::load_search_config(config_path);
    if (threads > 0) config.cpu_count = threads;
    threads = hf::worker_threads(config);
    hf::SearchOptions options;
    options.fresh = true;  // a benchmark trains everything, never resumes
    const hf::SearchSummary s = hf::run_search(config, options, nullptr, nullptr);
    std::size_t steps = 0;
    for (const hf::PlannedCombination& c : s.plan.combinations) {
      steps += static_cast<std::size_t>(c.settings.max_epochs) *
               hf::steps_per_epoch(s.train_rows, c.settings.batch_size) * config.rerun_count;
    }
    const double trainings = static_cast<double>(s.plan.trainings.size());
    const double gflops = s.plan.total_flops / s.seconds / 1e9;
    const double peak = hf::measured_fma_peak_gflops(threads, 1.0);
    if (json) {
      std::printf(
          "{\"config\": \"%s\", \"threads\": %d, \"trainings\": %.0f, \"seconds\": %.4f, \"trainings_per_second\": "
          "%.4f, "
          "\"steps_per_second\": %.1f, \"gflops\": %.3f, \"fma_peak_gflops\": %.3f, \"share_of_peak\": %.4f}\n",
          config_path.c_str(), threads, trainings, s.seconds, trainings / s.seconds, steps / s.seconds, gflops, peak,
          gflops / peak);
    } else {
      std::printf("hyperfuse CPU trainer: %s, %d threads\n", config_path.c_str(), threads);
      std::printf("  %.0f trainings in %.3f s: %.3f trainings/s, %.0f steps/s (%.1f us per step per thread)\n",
                  trainings, s.seconds, trainings / s.seconds, steps / s.seconds, 1e6 * threads / (steps / s.seconds));
      std::printf("  %.2f GFLOP/s of %.2f GFLOP/s measured FMA peak (%.1f%%)\n", gflops, peak, 100.0 * gflops / peak);
    }
  } catch (const hf::InputError& e) {
    std::fprintf(stderr, "hyperfuse_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
