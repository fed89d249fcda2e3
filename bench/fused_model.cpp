// fused_model: the performance model of the fused CUDA kernels (kernels/README.md). It plans a
// config's search as hyperfuse does (packs of networks sharing layout, batch size and order),
// takes each pack's fused plan (kernels/cuda/fused_plan.hpp: shared-memory placement, register
// tiles, owned weight tiles) and counts, phase by phase, the issue slots each of an SM's four
// schedulers spends on one training step of each network: FMAs, the loads feeding them, the
// epilogues (activation, dropout, derivative), the optimizer updates, the batch gather and the
// dropout draws, and the barriers. From steps, blocks per SM and waves over the SMs it predicts
// the search's time on an H100 (or the GPU the options describe) and prints it beside a measured
// time (--measured SECONDS) whenever a GPU run exists. With --counters FILE (the emulation's
// counters of one run, HYPERFUSE_EMU_COUNTERS) it adds the launches and host copies they show.
//
// Assumptions, options where they are figures of the machine (--help): 132 SMs at 1.98 GHz (the
// clock of the 67 TFLOP/s FP32 peak, the share's base), 4 us per launch, 20 us of host round trip
// per pack and epoch (loss sums and health read back), 25 GB/s and 10 us per host copy, HBM at
// 3.35 TB/s and L2 at 5.5 TB/s (traffic overlapping compute: the slower bound counts). Fixed in
// the code: one warp instruction per scheduler per cycle, one block per SM (the smem plan takes
// 147-227 KiB and 256 threads x 255 registers the whole register file), and the per-element
// instruction counts below (read off the shared math; only a GPU can say how close they are).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "host/common/errors.hpp"
#include "host/config/search_config.hpp"
#include "host/run/device_choice.hpp"
#include "host/search/search_plan.hpp"
#include "host/training/pack_trainer.hpp"
#include "kernels/cuda/fused_plan.hpp"
#include "kernels/math/optimizers.hpp"

namespace {

using hf::Activation;
using hf::FusedPlan;
using hf::GemmKind;
using hf::Optimizer;
using hf::TileShape;

struct Machine {
  int sms = 132;
  double clock_ghz = 1.98;
  double launch_us = 4.0;
  double epoch_round_trip_us = 20.0;
  double copy_gb_per_s = 25.0;
  double copy_us = 10.0;  // fixed cost of one host copy (driver call and DMA setup)
  double peak_tflops = 67.0;
  double hbm_tb_per_s = 3.35;  // the H100 SXM's HBM3
  double l2_tb_per_s = 5.5;    // what the SMs together read from L2 (a commonly measured figure)
};

// Bytes one training step of one network moves outside its SM: the batch gathered from the
// resident training rows (12 MB for the seed grid: they stay in the 50 MB L2) and, for every
// buffer the plan left in global scratch, three passes (written, then read by two phases) that
// the L2 serves while a wave's scratch fits in it. Per epoch, the parameters and optimizer
// states come from HBM and go back once (the fused kernel keeps them on chip during the epoch).
struct Traffic {
  double l2_bytes_per_step = 0.0;
  double hbm_bytes_per_epoch = 0.0;
};

Traffic traffic(const FusedPlan& plan, const hf::ParameterLayout& layout, int states) {
  Traffic t;
  t.l2_bytes_per_step = 4.0 * plan.batch * (layout.widths.front() + 1);
  const auto global = [&](const hf::FusedPlacement& p) { return p.words > 0 && !p.shared ? 4.0 * p.words : 0.0; };
  double scratch = global(plan.batch_x[0]) + global(plan.batch_x[1]) + global(plan.labels) + global(plan.loss_terms) +
                   global(plan.row_gradient) + global(plan.row_activation) + global(plan.bias_state) +
                   global(plan.tile_state);
  for (const hf::FusedLayerPlan& l : plan.layers)
    scratch += global(l.weights) + global(l.biases) + global(l.pre_activation) + global(l.output) + global(l.mask);
  t.l2_bytes_per_step += 3.0 * scratch;
  t.hbm_bytes_per_epoch = 4.0 * static_cast<double>(layout.size) * (1 + states) * 2.0;
  return t;
}

// Instructions per element of an activation's forward value and of its derivative (the
// derivative of Tanh and Sigmoid recomputes the value from Z first).
double activation_cost(Activation a) {
  switch (a) {
    case Activation::ReLU: return 1;
    case Activation::LeakyReLU:
    case Activation::PReLU:
    case Activation::RReLU: return 3;
    case Activation::Tanh:
    case Activation::Sigmoid:
    case Activation::Tanhshrink: return 30;  // exp_f (about 20) and an IEEE division
    case Activation::ELU:
    case Activation::CELU:
    case Activation::SELU:
    case Activation::SiLU:
    case Activation::Softplus:
    case Activation::LogSigmoid: return 35;
    case Activation::GELU:
    case Activation::Mish: return 60;
    default: return 10;
  }
}

double derivative_cost(Activation a) {
  const double value = activation_cost(a);
  return value <= 3 ? value : value + 10;  // the value again, then the derivative from it
}

// Instructions of one optimizer update (no FMA contraction: --fmad=false), with the weight's
// shared-memory load and store.
double update_cost(Optimizer o) {
  switch (o) {
    case Optimizer::SGD: return 8;
    case Optimizer::RMSprop: return 34;  // a square root and an IEEE division
    case Optimizer::Adagrad: return 32;
    default: return 40;  // Adam: the above, the moments, divide_exactly's FMAs
  }
}

constexpr double kBarrierCycles = 40.0;        // a barrier once the last warp arrives
constexpr double kPhiloxInstructions = 110.0;  // one Philox4x32-10 block (10 rounds, 32-bit multiplies)

struct StepCost {
  double forward = 0, backward = 0, update = 0, barriers = 0;
  double total() const { return forward + backward + update + barriers; }
};

// Cycles of one training step of one network of the plan (a full batch).
StepCost step_cycles(const FusedPlan& plan, Activation activation, Optimizer optimizer, bool dropout) {
  StepCost cost;
  const int layers = static_cast<int>(plan.layers.size());
  const double dropout_instructions = dropout ? 4.0 : 0.0;
  for (int l = 0; l < layers; ++l) {
    const hf::FusedLayerPlan& p = plan.layers[l];
    const bool output_layer = l + 1 == layers;
    const double epilogue = output_layer ? 40.0 : 10.0 + activation_cost(activation) + dropout_instructions;
    const int tiles = (p.out + p.forward.m - 1) / p.forward.m * (plan.columns / p.forward.n);
    cost.forward += hf::phase_cycles(tiles, hf::tile_instructions(GemmKind::Forward, p.forward, p.in4, epilogue));
    if (l > 0) {
      const double back =
          10.0 + derivative_cost(activation) + dropout_instructions + (activation == Activation::PReLU ? 3.0 : 0.0);
      const int back_tiles = (p.in + p.backward.m - 1) / p.backward.m * (plan.columns / p.backward.n);
      cost.backward +=
          hf::phase_cycles(back_tiles, hf::tile_instructions(GemmKind::InputGradient, p.backward, p.out4, back));
    }
  }
  // The update phase: every owned weight tile (gradient GEMM over the batch rows, then 16
  // updates), plus what every thread does besides (biases, the next batch, the dropout draws).
  const int k4 = plan.columns;
  const double tile = hf::tile_instructions(GemmKind::WeightGradient, TileShape{4, 4}, k4, update_cost(optimizer));
  const double bias = (plan.batch + update_cost(optimizer)) * std::ceil(plan.biases / double(hf::kFusedThreads));
  const int gather = plan.layers.front().in * plan.columns;
  double per_thread = bias + 12.0 * std::ceil(gather / double(hf::kFusedThreads));
  if (dropout) {
    int words = 0;
    for (int l = 0; l + 1 < layers; ++l) words += plan.layers[l].mask_words;
    per_thread += std::ceil(words / double(hf::kFusedThreads)) * 8 * kPhiloxInstructions;
  }
  const double warps_per_scheduler = hf::kFusedWarps / 4.0;
  cost.update = hf::phase_cycles(plan.weight_tiles, tile) + per_thread * warps_per_scheduler;
  // The bookkeeper's loss sum (dependent double additions) overlaps the other warps' work.
  const int barriers = 2 * layers;
  cost.barriers = barriers * kBarrierCycles;
  return cost;
}

// Cycles of evaluating one network on `rows` rows (forward passes of the plan's batch).
double evaluation_cycles(const FusedPlan& plan, Activation activation, int rows) {
  double per_batch = 0.0;
  const int layers = static_cast<int>(plan.layers.size());
  for (int l = 0; l < layers; ++l) {
    const hf::FusedLayerPlan& p = plan.layers[l];
    const double epilogue = l + 1 == layers ? 20.0 : 10.0 + activation_cost(activation);
    const int tiles = (p.out + p.forward.m - 1) / p.forward.m * (plan.columns / p.forward.n);
    per_batch +=
        hf::phase_cycles(tiles, hf::tile_instructions(GemmKind::Forward, p.forward, p.in4, epilogue)) + kBarrierCycles;
  }
  per_batch += 12.0 * std::ceil(plan.layers.front().in * plan.columns / double(hf::kFusedThreads)) * 2 + kBarrierCycles;
  return per_batch * std::ceil(rows / double(plan.batch));
}

std::string text_of(const TileShape& t) { return std::to_string(t.m) + "x" + std::to_string(t.n); }

std::string placement(const hf::FusedPlacement& p) {
  if (p.words == 0) return "-";
  return (p.shared ? "smem " : "global ") + std::to_string(p.words * 4 / 1024.0).substr(0, 5) + " KiB";
}

// The emulation's counters file: {"launches": N, ...}.
std::map<std::string, double> read_counters(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw hf::InputError("fused_model: cannot read the counters file " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, double> counters;
  std::string s = text.str();
  for (std::size_t at = s.find('"'); at != std::string::npos; at = s.find('"', at)) {
    const std::size_t end = s.find('"', at + 1);
    const std::string key = s.substr(at + 1, end - at - 1);
    const std::size_t colon = s.find(':', end);
    counters[key] = std::atof(s.c_str() + colon + 1);
    at = s.find_first_of(",}", colon);
  }
  return counters;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "configs/seed.toml", counters_path;
  int train_rows = 100000, test_rows = 25000, features = 30;
  double measured = 0.0;
  int counted_packs = 0, counted_epochs = 1;
  Machine machine;
  bool details = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto next = [&] { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--train-rows")
      train_rows = std::atoi(next());
    else if (arg == "--test-rows")
      test_rows = std::atoi(next());
    else if (arg == "--features")
      features = std::atoi(next());
    else if (arg == "--measured")
      measured = std::atof(next());
    else if (arg == "--counters")
      counters_path = next();
    else if (arg == "--counted-packs")
      counted_packs = std::atoi(next());
    else if (arg == "--counted-epochs")
      counted_epochs = std::atoi(next());
    else if (arg == "--sms")
      machine.sms = std::atoi(next());
    else if (arg == "--clock-ghz")
      machine.clock_ghz = std::atof(next());
    else if (arg == "--launch-us")
      machine.launch_us = std::atof(next());
    else if (arg == "--round-trip-us")
      machine.epoch_round_trip_us = std::atof(next());
    else if (arg == "--copy-gb-per-s")
      machine.copy_gb_per_s = std::atof(next());
    else if (arg == "--copy-us")
      machine.copy_us = std::atof(next());
    else if (arg == "--peak-tflops")
      machine.peak_tflops = std::atof(next());
    else if (arg == "--hbm-tb-per-s")
      machine.hbm_tb_per_s = std::atof(next());
    else if (arg == "--l2-tb-per-s")
      machine.l2_tb_per_s = std::atof(next());
    else if (arg == "--brief")
      details = false;
    else if (arg == "--help") {
      std::puts(
          "usage: fused_model [CONFIG] [--train-rows N] [--test-rows N] [--features N] [--measured SECONDS]\n"
          "                   [--counters FILE --counted-packs P --counted-epochs E] [--sms N] [--clock-ghz X]\n"
          "                   [--launch-us X] [--round-trip-us X] [--copy-gb-per-s X] [--copy-us X]\n"
          "                   [--peak-tflops X] [--hbm-tb-per-s X] [--l2-tb-per-s X] [--brief]");
      return 0;
    } else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr, "fused_model: unknown option %s (see fused_model --help)\n", arg.c_str());
      return 2;
    } else {
      config_path = arg;
    }
  }
  // A zero or negative figure (or a value atof could not read) would divide by zero below.
  for (const double figure : {machine.clock_ghz, machine.copy_gb_per_s, machine.peak_tflops, machine.hbm_tb_per_s,
                              machine.l2_tb_per_s, static_cast<double>(machine.sms)}) {
    if (!(figure > 0.0)) {
      std::fprintf(stderr,
                   "fused_model: --sms, --clock-ghz, --copy-gb-per-s, --peak-tflops, --hbm-tb-per-s and "
                   "--l2-tb-per-s take a positive number\n");
      return 2;
    }
  }
  try {
    const hf::SearchConfig config = hf::load_search_config(config_path);
    const hf::SearchPlan plan = hf::plan_search(config.search, features, train_rows, test_rows, hf::kMaxGpuPackSize);
    const double hz = machine.clock_ghz * 1e9;
    double block_seconds = 0.0;                  // every network's epochs, one block each, summed
    double l2_seconds = 0.0, hbm_seconds = 0.0;  // the traffic outside the SMs at full bandwidth
    double launches = 0.0, round_trips = 0.0;
    int max_epochs = 0;
    std::printf("fused model: %s, %d training rows, %d test rows, %zu packs, %zu trainings\n", config_path.c_str(),
                train_rows, test_rows, plan.packs.size(), plan.trainings.size());
    for (const hf::PlannedPack& pack : plan.packs) {
      bool any_dropout = false, any_row = false;
      int epochs = 0;
      for (const hf::PackMember& m : pack.spec.members) {
        any_dropout = any_dropout || m.dropout > 0.0;
        any_row = any_row || hf::is_row_activation(m.activation);
        epochs = std::max(epochs, m.max_epochs);
      }
      max_epochs = std::max(max_epochs, epochs);
      const FusedPlan fused = hf::plan_fused_training(pack.spec.layout, pack.spec.batch_size, any_dropout, any_row,
                                                      hf::kH100SharedBytesPerBlock);
      const int batch = std::min(pack.spec.batch_size, train_rows);
      const int steps = hf::steps_per_epoch(train_rows, batch);
      double pack_seconds = 0.0, pack_l2_bytes = 0.0, pack_hbm_bytes = 0.0;
      double example = 0.0;
      for (const hf::PackMember& m : pack.spec.members) {
        const StepCost step = step_cycles(fused, m.activation, m.optimizer, m.dropout > 0.0);
        example = std::max(example, step.total());
        pack_seconds += (step.total() * steps * m.max_epochs + evaluation_cycles(fused, m.activation, test_rows)) / hz;
        const Traffic moved = traffic(fused, pack.spec.layout, hf::optimizer_state_count(m.optimizer));
        pack_l2_bytes += moved.l2_bytes_per_step * steps * m.max_epochs;
        pack_hbm_bytes += moved.hbm_bytes_per_epoch * m.max_epochs;
      }
      block_seconds += pack_seconds;
      l2_seconds += pack_l2_bytes / (machine.l2_tb_per_s * 1e12);
      hbm_seconds += pack_hbm_bytes / (machine.hbm_tb_per_s * 1e12);
      launches += 2.0 * epochs + 1.0;  // epoch kernel and parameter check per epoch, one evaluation
      round_trips += epochs;
      if (details) {
        std::string widths;
        for (int w : pack.spec.layout.widths) widths += (widths.empty() ? "" : "-") + std::to_string(w);
        std::printf(
            "  pack %s batch %d: %d networks, %d steps/epoch, shared %.1f KiB%s, %d register slots, %d weight "
            "tiles\n",
            widths.c_str(), pack.spec.batch_size, pack.spec.models(), steps, fused.shared_bytes() / 1024.0,
            fused.fully_shared() ? " (everything)" : " (the rest global)", fused.state_slots, fused.weight_tiles);
        std::string tiles;
        for (std::size_t l = 0; l < fused.layers.size(); ++l)
          tiles += " " + text_of(fused.layers[l].forward) + (l == 0 ? "" : "/" + text_of(fused.layers[l].backward));
        if (!fused.fully_shared()) {
          std::string where;
          for (std::size_t l = 0; l < fused.layers.size(); ++l)
            where += " W" + std::to_string(l) + " " + placement(fused.layers[l].weights) + ", Z" + std::to_string(l) +
                     " " + placement(fused.layers[l].pre_activation) + ";";
          std::printf("    placement:%s tile states %s\n", where.c_str(), placement(fused.tile_state).c_str());
        }
        const StepCost s = step_cycles(fused, Activation::LeakyReLU, Optimizer::Adam, false);
        std::printf(
            "    tiles (forward/backward):%s; LeakyReLU+Adam step: %.0f cycles (forward %.0f, backward %.0f, "
            "update %.0f, barriers %.0f); slowest network %.0f\n",
            tiles.c_str(), s.total(), s.forward, s.backward, s.update, s.barriers, example);
      }
    }
    // Blocks: one per network and epoch, one per SM at a time (shared memory and registers); the
    // SMs are taken to share the block time evenly. Not modelled: the last wave of each pack and
    // epoch (768 blocks are 5.8 waves of 132, so up to 3% idle while packs run one at a time
    // on a device, as they do today: one worker per GPU).
    const double compute = block_seconds / machine.sms;
    double copies = 0.0;
    if (!counters_path.empty()) {
      const std::map<std::string, double> c = read_counters(counters_path);
      const double packs = counted_packs > 0 ? counted_packs : static_cast<double>(plan.packs.size());
      const double per_pack_epoch = 1.0 / (packs * counted_epochs);
      const double counted_launches = c.count("launches") ? c.at("launches") : 0.0;
      const double counted_blas = c.count("blas_calls") ? c.at("blas_calls") : 0.0;
      const double h2d = c.count("copies_h2d") ? c.at("copies_h2d") : 0.0;
      const double d2h = c.count("copies_d2h") ? c.at("copies_d2h") : 0.0;
      const double bytes =
          (c.count("bytes_h2d") ? c.at("bytes_h2d") : 0.0) + (c.count("bytes_d2h") ? c.at("bytes_d2h") : 0.0);
      std::printf("counters (%s): %.1f launches + cuBLAS calls and %.1f host copies per pack and epoch\n",
                  counters_path.c_str(), (counted_launches + counted_blas) * per_pack_epoch,
                  (h2d + d2h) * per_pack_epoch);
      launches = (counted_launches + counted_blas) * per_pack_epoch * plan.packs.size() * max_epochs;
      copies = (h2d + d2h) * per_pack_epoch * plan.packs.size() * max_epochs * machine.copy_us * 1e-6 +
               bytes / machine.copy_gb_per_s / 1e9;
    }
    // Launches and round trips: the counted ones when counters are given (their copies then stand
    // for the round trips), else one epoch kernel and one check per epoch and pack.
    if (!counters_path.empty()) round_trips = 0.0;
    const double overhead = launches * machine.launch_us * 1e-6 + round_trips * machine.epoch_round_trip_us * 1e-6;
    // Traffic outside the SMs overlaps the other resident warps' work: the slower of the two bounds.
    const double memory = l2_seconds + hbm_seconds;
    const double predicted = std::max(compute, memory) + overhead + copies;
    const double flops = plan.total_flops;
    std::printf(
        "predicted on %d SMs at %.2f GHz: %.2f s (compute %.2f s; memory %.3f s: L2 %.3f s at %.1f TB/s, HBM %.3f s at "
        "%.2f TB/s; launches and round trips %.3f s; copies %.3f s): %.1f TFLOP/s, %.0f%% of %.0f TFLOP/s\n",
        machine.sms, machine.clock_ghz, predicted, compute, memory, l2_seconds, machine.l2_tb_per_s, hbm_seconds,
        machine.hbm_tb_per_s, overhead, copies, flops / predicted / 1e12,
        100.0 * flops / predicted / 1e12 / machine.peak_tflops, machine.peak_tflops);
    if (measured > 0.0)
      std::printf("measured: %.2f s (%.1f TFLOP/s); measured / predicted = %.2f\n", measured, flops / measured / 1e12,
                  measured / predicted);
    std::printf(
        "{\"predicted_seconds\": %.4f, \"compute_seconds\": %.4f, \"memory_seconds\": %.4f, \"flops\": %.4g%s}\n",
        predicted, compute, memory, flops,
        measured > 0.0 ? (", \"measured_seconds\": " + std::to_string(measured)).c_str() : "");
  } catch (const hf::InputError& e) {
    std::fprintf(stderr, "fused_model: %s\n", e.what());
    return 2;
  }
  return 0;
}
