#include "host/cli/plan_report.hpp"

#include <algorithm>
#include <cstdio>

#include "host/run/device_plan.hpp"
#include "kernels/backend/byte_size.hpp"

namespace hf {
namespace {

std::string line(const char* label, const std::string& value) {
  char start[32];
  std::snprintf(start, sizeof start, "  %-22s ", label);
  return start + value + "\n";
}

std::string widths_of(const ParameterLayout& layout) {
  std::string text;
  for (int w : layout.widths) text += (text.empty() ? "" : "-") + std::to_string(w);
  return text;
}

std::string scientific(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

}  // namespace

std::string plan_report(const SearchConfig& config, const PreparedSearch& prepared, const MemoryEstimate& estimate,
                        const HostMemory& host, const std::optional<MemoryFit>& fit) {
  const SearchPlan& plan = prepared.plan;
  std::string text = "Plan of " + config.source.string() + " (dry run: nothing trained, nothing written)\n";
  text += line("combinations", std::to_string(plan.combinations.size()));
  text += line("trainings", std::to_string(plan.trainings.size()) + " (" + std::to_string(plan.combinations.size()) +
                                " x " + std::to_string(config.search.rerun_count) + " reruns)");
  int most_networks = 0;
  std::size_t largest = 0;
  for (std::size_t p = 0; p < plan.packs.size(); ++p) {
    most_networks = std::max(most_networks, plan.packs[p].spec.models());
    if (plan.packs[p].spec.layout.prelu_offset > plan.packs[largest].spec.layout.prelu_offset) largest = p;
  }
  const int threads = fit ? fit->threads : prepared.threads;
  std::string where = std::to_string(plan.packs.size()) + " on " + prepared.backend + ", up to " +
                      std::to_string(most_networks) + (most_networks == 1 ? " network" : " networks") + " each, " +
                      std::to_string(threads) + " worker thread" + (threads == 1 ? "" : "s");
  if (fit && fit->threads < prepared.threads) where += " (" + std::to_string(prepared.threads) + " asked for)";
  text += line("packs", where);
  if (estimate.on_gpu) {
    const int workers = estimate.workers_per_gpu;  // more than 1 only for packs that do not fill a GPU
    text += line("workers per GPU",
                 std::to_string(workers) +
                     " (each with its own stream: packs smaller than what a GPU trains at once run side by side)");
  }
  if (!plan.packs.empty()) {
    const ParameterLayout& layout = plan.packs[largest].spec.layout;
    text += line("largest network", widths_of(layout) + ": " + std::to_string(layout.prelu_offset) +
                                        " weights and biases (combination " +
                                        combination_of_pack(config, plan, largest) + ")");
  }
  text += line("estimated work", scientific(plan.total_flops) + " FLOP");
  const std::size_t peak = estimate.host_peak(threads);
  text += line("estimated peak memory", std::to_string(peak) + " bytes (" + byte_size(peak) + ") of " +
                                            byte_size(host.available_bytes) + " available (" + host.source + ")");
  text +=
      line("  program", byte_size(estimate.fixed) +
                            (estimate.library > 0 ? " (" + byte_size(estimate.library) + " of it GEMM kernels)" : ""));
  text += line("  data", byte_size(estimate.data) + " (" + byte_size(estimate.loading) + " more while loading)");
  text += line("  plan and results", byte_size(estimate.bookkeeping));
  if (!estimate.packs.empty()) {
    std::size_t biggest = 0;
    for (std::size_t p = 0; p < estimate.packs.size(); ++p)
      if (estimate.packs[p].thread_host > estimate.packs[biggest].thread_host) biggest = p;
    const PackMemory& m = estimate.packs[biggest];
    std::string parts = estimate.on_gpu ? "" : "workspace " + byte_size(m.workspace.total()) + ", ";
    parts += "initial weights and other host buffers " + byte_size(m.trainer_host);
    text +=
        line("  worker threads", std::to_string(threads) + " x up to " + byte_size(m.thread_host) + " (" + parts + ")");
  }
  if (estimate.on_gpu) {
    for (std::size_t g = 0; g < prepared.gpu_memory.size(); ++g) {
      text +=
          line(g == 0 ? "estimated GPU memory" : "",
               byte_size(estimate.device_peak()) + " (" + std::to_string(estimate.workers_per_gpu) +
                   " x the largest pack and a copy of the data) on GPU " + std::to_string(prepared.device.gpus[g]) +
                   " (" + prepared.gpu_memory[g].name + "), " + byte_size(prepared.gpu_memory[g].free_bytes) + " free");
    }
  }
  for (const std::string& gpu_line : gpu_plan_lines(prepared)) text += gpu_line + "\n";
  if (!fit) text += "The search does not fit in memory: see the error.\n";
  return text;
}

}  // namespace hf
