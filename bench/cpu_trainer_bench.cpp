// hyperfuse_bench: trains the networks a config describes on the CPU trainer (or, with
// --device cuda, the CUDA backend) and prints trainings/s, training steps/s, GFLOP/s and the
// share of peak: the FMA peak measured on the CPU's cores, or the GPU's FP32 peak (67 TFLOP/s
// for an H100 SXM unless --gpu-peak-tflops says otherwise). --json prints one machine-readable
// line. bench/cpu_vs_pytorch.sh and bench/device_check.sh run it beside the PyTorch baselines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "host/common/errors.hpp"
#include "host/config/search_config.hpp"
#include "host/run/fma_peak.hpp"
#include "host/run/run_search.hpp"
#include "host/training/pack_trainer.hpp"

int main(int argc, char** argv) {
  std::string config_path = "bench/seed_network.toml";
  int threads = 0;
  bool json = false;
  std::string device, train_path, test_path;
  long long combinations = 0;
  double gpu_peak_tflops = 67.0;  // H100 SXM, FP32 without tensor cores
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (arg == "--device" && i + 1 < argc)
      device = argv[++i];
    else if (arg == "--train" && i + 1 < argc)
      train_path = argv[++i];
    else if (arg == "--test" && i + 1 < argc)
      test_path = argv[++i];
    else if (arg == "--combinations" && i + 1 < argc)
      combinations = std::atoll(argv[++i]);
    else if (arg == "--gpu-peak-tflops" && i + 1 < argc)
      gpu_peak_tflops = std::atof(argv[++i]);
    else if (arg == "--json")
      json = true;
    else if (arg == "--help") {
      std::puts(
          "usage: hyperfuse_bench [CONFIG] [--threads N] [--device auto|cpu|cuda] [--train CSV] [--test CSV]\n"
          "                       [--combinations N (a random sample of the grid)] [--gpu-peak-tflops X] [--json]");
      return 0;
    } else
      config_path = arg;
  }
  try {
    hf::SearchConfig config = hf::load_search_config(config_path);
    if (threads > 0) config.cpu_count = threads;
    if (device == "cpu") config.device = hf::Device::Cpu;
    if (device == "cuda") config.device = hf::Device::Cuda;
    if (device == "auto") config.device = hf::Device::Auto;
    if (!train_path.empty()) config.train_path = train_path;
    if (!test_path.empty()) config.test_path = test_path;
    if (combinations > 0) {
      config.search.explore_all_combinations = false;
      config.search.combinations_to_try = static_cast<std::uint64_t>(combinations);
    }
    hf::SearchOptions options;
    options.fresh = true;  // a benchmark trains everything, never resumes
    // The search's seconds include reading the data and planning (until on_plan), and after the
    // last training the journal's final commit and the result files; between them, training.
    const auto started = std::chrono::steady_clock::now();
    const auto since_start = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    double setup_seconds = 0.0, trained_at = 0.0;
    const hf::SearchSummary s = hf::run_search(
        config, options, [&](const hf::SearchSummary&) { setup_seconds = since_start(); },
        [&](std::size_t done, std::size_t total) {
          if (done == total) trained_at = since_start();
        });
    threads = s.threads;
    const bool gpu = s.backend == "cuda";
    std::size_t steps = 0;
    for (const hf::PlannedCombination& c : s.plan.combinations) {
      steps += static_cast<std::size_t>(c.settings.max_epochs) *
               hf::steps_per_epoch(s.train_rows, c.settings.batch_size) * config.search.rerun_count;
    }
    const double trainings = static_cast<double>(s.plan.trainings.size());
    const double gflops = s.plan.total_flops / s.seconds / 1e9;
    const double training_seconds = (trained_at > 0.0 ? trained_at : s.seconds) - setup_seconds;
    const double training_gflops = s.plan.total_flops / training_seconds / 1e9;
    const double peak = gpu ? 1000.0 * gpu_peak_tflops : hf::measured_fma_peak_gflops(threads, 1.0);
    const char* peak_name = gpu ? "gpu_fp32_peak_gflops" : "fma_peak_gflops";
    std::size_t largest_pack = 0;
    for (const hf::PlannedPack& p : s.plan.packs) largest_pack = std::max(largest_pack, p.trainings.size());
    if (json) {
      std::printf(
          "{\"config\": \"%s\", \"backend\": \"%s\", \"threads\": %d, \"train_rows\": %d, \"test_rows\": %d, "
          "\"packs\": %zu, \"largest_pack\": %zu, \"trainings\": %.0f, \"seconds\": %.4f, "
          "\"trainings_per_second\": %.4f, \"steps_per_second\": %.1f, \"gflops\": %.3f, \"%s\": %.3f, "
          "\"share_of_peak\": %.4f, \"setup_seconds\": %.4f, \"training_seconds\": %.4f, \"training_gflops\": %.3f, "
          "\"training_share_of_peak\": "
          "%.4f}\n",
          config_path.c_str(), s.backend.c_str(), threads, s.train_rows, s.test_rows, s.plan.packs.size(), largest_pack,
          trainings, s.seconds, trainings / s.seconds, steps / s.seconds, gflops, peak_name, peak, gflops / peak,
          setup_seconds, training_seconds, training_gflops, training_gflops / peak);
    } else {
      std::printf("hyperfuse %s trainer: %s, %d threads, %zu packs (largest %zu networks)\n", s.backend.c_str(),
                  config_path.c_str(), threads, s.plan.packs.size(), largest_pack);
      std::printf("  %.0f trainings in %.3f s: %.3f trainings/s, %.0f steps/s (%.1f us per step per thread)\n",
                  trainings, s.seconds, trainings / s.seconds, steps / s.seconds, 1e6 * threads / (steps / s.seconds));
      std::printf("  %.2f GFLOP/s of %.2f GFLOP/s %s (%.1f%%)\n", gflops, peak, gpu ? "FP32 peak" : "measured FMA peak",
                  100.0 * gflops / peak);
      std::printf(
          "  training alone, %.3f s (without %.3f s reading data and planning, %.3f s of journal and "
          "result files): %.2f GFLOP/s (%.1f%%)\n",
          training_seconds, setup_seconds, s.seconds - setup_seconds - training_seconds, training_gflops,
          100.0 * training_gflops / peak);
    }
  } catch (const hf::InputError& e) {
    std::fprintf(stderr, "hyperfuse_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
