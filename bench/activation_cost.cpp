// activation_cost: what the activation function costs the CPU trainer. Trains the first
// network of a config (default bench/seed_network.toml: the seed's network, data and
// optimizer) on one thread once per activation, the activations interleaved so a change in the
// machine's load spreads over all of them, and prints each one's median training time, the
// spread of its repeats and its time relative to ReLU (thread CPU time). --grid trains the
// config's whole grid per activation instead; --profile adds where a training step spends its
// time, primitive by primitive.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/common/errors.hpp"
#include "host/config/search_config.hpp"
#include "host/run/prepared_search.hpp"
#include "host/training/pack_trainer.hpp"
#include "kernels/backend/forwarding_workspace.hpp"
#include "kernels/cpu/cpu_backend.hpp"

namespace {

// The thread's CPU time, not wall time: on a machine shared with other work, time the thread
// spends waiting for a core would otherwise land on whichever activation was running.
double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Seconds spent in each primitive, summed over the calls of one training.
using PrimitiveSeconds = std::map<std::string, double>;

// A CPU workspace that times every primitive the training step calls.
class TimedWorkspace final : public hf::ForwardingWorkspace {
 public:
  TimedWorkspace(std::unique_ptr<hf::PackWorkspace> inner, PrimitiveSeconds& seconds)
      : ForwardingWorkspace(std::move(inner)), seconds_(seconds) {}

  void linear_forward(int l, const hf::StepInfo& i) override {
    timed("linear_forward", i, [&] { inner().linear_forward(l, i); });
  }
  void bias_activation_dropout(int l, const hf::StepInfo& i) override {
    timed("bias_activation_dropout", i, [&] { inner().bias_activation_dropout(l, i); });
  }
  void output_loss_gradient(const hf::StepInfo& i) override {
    timed("output_loss_gradient", i, [&] { inner().output_loss_gradient(i); });
  }
  void linear_backward(int l, const hf::StepInfo& i) override {
    timed("linear_backward", i, [&] { inner().linear_backward(l, i); });
  }
  void activation_backward(int l, const hf::StepInfo& i) override {
    timed("activation_backward", i, [&] { inner().activation_backward(l, i); });
  }
  void l1_penalty(const hf::StepInfo& i) override {
    timed("l1_penalty", i, [&] { inner().l1_penalty(i); });
  }
  void optimizer_step(const hf::StepInfo& i, const std::vector<hf::OptimizerStep>& s) override {
    timed("optimizer_step", i, [&] { inner().optimizer_step(i, s); });
  }

 private:
  // Training steps only: evaluation runs the forward primitives on bigger batches.
  template <typename F>
  void timed(const char* name, const hf::StepInfo& info, F&& f) {
    if (info.mode != hf::Mode::Training) return f();
    // Wall time: the thread clock is a system call here, as slow as the smaller primitives.
    const auto t0 = std::chrono::steady_clock::now();
    f();
    seconds_[name] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  PrimitiveSeconds& seconds_;
};

class TimedCpuBackend final : public hf::Backend {
 public:
  explicit TimedCpuBackend(PrimitiveSeconds& seconds) : seconds_(seconds) {}
  const char* name() const override { return "cpu (timed)"; }
  std::unique_ptr<hf::PackWorkspace> create_workspace(const hf::PackSpec& spec, int max_rows) override {
    return std::make_unique<TimedWorkspace>(cpu_.create_workspace(spec, max_rows), seconds_);
  }

 private:
  hf::CpuBackend cpu_;
  PrimitiveSeconds& seconds_;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

int activation_code(const std::string& name) {
  for (int a = 0; a < hf::kActivationCount; ++a)
    if (name == hf::kActivationNames[a]) return a;
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "bench/seed_network.toml";
  int repeats = 5;
  double dropout = -1.0;  // the config's unless --dropout says otherwise
  bool profile = false, json = false, grid = false;
  std::vector<int> activations;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeats" && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--activations" && i + 1 < argc) {
      std::string list = argv[++i];
      for (std::size_t begin = 0; begin <= list.size();) {
        const std::size_t end = std::min(list.find(',', begin), list.size());
        const std::string name = list.substr(begin, end - begin);
        const int code = activation_code(name);
        if (code < 0) {
          std::fprintf(stderr,
                       "activation_cost: unknown activation '%s' in --activations; use names as in "
                       "configs, e.g. ReLU,Mish,GELU\n",
                       name.c_str());
          return 2;
        }
        activations.push_back(code);
        begin = end + 1;
      }
    } else if (arg == "--dropout" && i + 1 < argc) {
      dropout = std::atof(argv[++i]);
    } else if (arg == "--grid") {
      grid = true;
    } else if (arg == "--profile") {
      profile = true;
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--help") {
      std::puts(
          "usage: activation_cost [CONFIG] [--repeats N] [--activations ReLU,Mish,...] [--dropout P] [--grid] "
          "[--profile] [--json]\n"
          "  --grid: train every training of the config's grid per activation, not only its first network");
      return 0;
    } else {
      config_path = arg;
    }
  }
  if (activations.empty())
    for (int a = 0; a < hf::kActivationCount; ++a) activations.push_back(a);
  const int relu = static_cast<int>(hf::Activation::ReLU);
  if (std::find(activations.begin(), activations.end(), relu) == activations.end())
    activations.insert(activations.begin(), relu);

  try {
    hf::SearchConfig config = hf::load_search_config(config_path);
    config.device = hf::Device::Cpu;
    config.cpu_count = 1;
    const hf::PreparedSearch prepared = hf::prepare_search(config);
    // What one timing trains: the grid's first network, or with --grid every pack of the plan.
    std::vector<hf::PlannedPack> work = prepared.plan.packs;
    if (!grid) {
      work.erase(work.begin() + 1, work.end());
      work.front().spec.members.resize(1);
    }
    long long steps = 0;
    double flops = 0.0;
    std::size_t trainings = 0;
    for (hf::PlannedPack& pack : work) {
      for (hf::PackMember& m : pack.spec.members) {
        if (dropout >= 0.0) m.dropout = dropout;
        steps += static_cast<long long>(m.max_epochs) * hf::steps_per_epoch(prepared.train.rows, pack.spec.batch_size);
        flops += hf::training_flops(pack.spec.layout, m.max_epochs, prepared.train.rows, prepared.test.rows);
        ++trainings;
      }
    }
    const hf::PackSpec& spec = work.front().spec;
    const hf::PackMember& member = spec.members.front();

    std::map<int, std::vector<double>> seconds;
    std::map<int, std::map<std::string, std::vector<double>>> primitives;  // per repeat
    for (int r = 0; r < repeats; ++r) {
      for (int a : activations) {
        for (hf::PlannedPack& pack : work)
          for (hf::PackMember& m : pack.spec.members) m.activation = static_cast<hf::Activation>(a);
        PrimitiveSeconds step_parts;
        TimedCpuBackend timed(step_parts);
        hf::CpuBackend plain;
        hf::Backend& backend = profile ? static_cast<hf::Backend&>(timed) : plain;
        const double t0 = thread_seconds();
        for (const hf::PlannedPack& pack : work)
          hf::train_pack(backend, pack.spec, prepared.train, prepared.test, pack.options);
        seconds[a].push_back(thread_seconds() - t0);
        if (profile)
          for (const auto& [name, s] : step_parts) primitives[a][name].push_back(s);
      }
    }

    const double relu_median = median(seconds[relu]);
    std::string widths;
    for (int w : spec.layout.widths) widths += (widths.empty() ? "" : "-") + std::to_string(w);
    if (!json) {
      if (grid) {
        std::printf("activation_cost: %s, the whole grid: %zu trainings, %lld steps; one thread, median of %d\n",
                    config_path.c_str(), trainings, steps, repeats);
      } else {
        std::printf(
            "activation_cost: %s, widths %s, batch %d, %lld steps, %s, %s, dropout %g; one thread, median of %d\n",
            config_path.c_str(), widths.c_str(), spec.batch_size, steps, hf::kLossNames[static_cast<int>(member.loss)],
            hf::kOptimizerNames[static_cast<int>(member.optimizer)], member.dropout, repeats);
      }
      std::printf("%-12s %10s %17s %9s %8s\n", "activation", "ms", "spread ms", "vs ReLU", "GFLOP/s");
    }
    for (int a : activations) {
      const std::vector<double>& s = seconds[a];
      const double m = median(s);
      const double low = *std::min_element(s.begin(), s.end()), high = *std::max_element(s.begin(), s.end());
      if (json) {
        std::printf(
            "{\"activation\": \"%s\", \"median_seconds\": %.5f, \"min_seconds\": %.5f, \"max_seconds\": %.5f, "
            "\"relative_to_relu\": %.3f, \"gflops\": %.3f}\n",
            hf::kActivationNames[a], m, low, high, m / relu_median, flops / m / 1e9);
      } else {
        std::printf("%-12s %10.1f %8.1f to %6.1f %8.2fx %8.2f\n", hf::kActivationNames[a], 1e3 * m, 1e3 * low,
                    1e3 * high, m / relu_median, flops / m / 1e9);
      }
    }
    if (profile && !json) {
      std::printf("\nmicroseconds per training step, by primitive (training steps only; median of the repeats)\n");
      std::vector<std::string> names;
      for (const auto& [name, s] : primitives[relu]) names.push_back(name);
      std::printf("%-12s", "activation");
      for (const std::string& n : names) std::printf(" %11.11s", n.c_str());
      std::printf(" %11s\n", "sum");
      for (int a : activations) {
        std::printf("%-12s", hf::kActivationNames[a]);
        double total = 0;
        for (const std::string& n : names) {
          const double us = 1e6 * median(primitives[a][n]) / steps;
          total += us;
          std::printf(" %11.2f", us);
        }
        std::printf(" %11.2f\n", total);
      }
    }
  } catch (const hf::InputError& e) {
    std::fprintf(stderr, "activation_cost: %s\n", e.what());
    return 2;
  }
  return 0;
}
