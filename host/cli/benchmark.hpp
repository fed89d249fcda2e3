// `hyperfuse benchmark [CONFIG]`: what to run first on a new machine. The same short search (a
// sample of CONFIG's combinations, or of the default grid on generated data) on the CPU and on
// each GPU, and one table: trainings/s, samples/s, GFLOP/s, the share of each device's FP32
// peak and the speed against the CPU.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hf {

struct BenchmarkArguments {
  std::optional<std::filesystem::path> config;  // none: the default grid on generated data
  int trainings = 32;                           // combinations drawn, one training each
  int train_rows = 10000;                       // of the generated data (without CONFIG)
};

// One device's line of the table: figures when the search ran there, else why not.
struct BenchmarkRow {
  std::string device;  // "cpu (2 threads)", "cuda:0 NVIDIA H100 80GB HBM3"
  bool ran = false;
  std::string note;  // when it did not run: "emulated, no speed", "no GPU: ..."
  double seconds = 0.0;
  double trainings = 0.0;
  double samples = 0.0;  // training rows passed through a network, epochs and trainings summed
  double flops = 0.0;
  double peak_flops = 0.0;  // the device's FP32 peak; 0 unknown
  std::string peak_kind;    // "measured FMA peak", "FP32 peak"
};

// The table, the first row (the CPU) the reference of the last column.
std::string benchmark_table(const std::vector<BenchmarkRow>& rows);

int benchmark_command(const BenchmarkArguments& args);

}  // namespace hf
