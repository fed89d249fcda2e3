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
// --card picks another GPU's figures (SMs, clock, FP32 lanes, bandwidths, L2) and plans with its
// shared-memory limit, so what does not fit on a smaller card goes to global scratch as it would.
// Assumptions, options where they are figures of the machine (--help; the options override the
// card's): 132 SMs at 1.98 GHz (the clock of the 67 TFLOP/s FP32 peak, the share's base), 4 us
// per launch, 20 us of host round trip per pack and epoch (loss sums and health read back),
// 25 GB/s and 10 us per host copy, HBM at 3.35 TB/s and L2 at 5.5 TB/s (traffic overlapping
// compute: the slower bound counts). Fixed in the code: one warp instruction per scheduler per
// cycle, one block per SM (the smem plan takes 147-227 KiB and 256 threads x 255 registers the
// whole register file), and the per-element instruction counts below (read off the shared math;
// only a GPU can say how close they are).
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
#include "kernels/cuda/fused_step_cost.hpp"
#include "kernels/math/optimizers.hpp"

namespace {

using hf::Activation;
using hf::FusedPlan;
using hf::Optimizer;
using hf::TileShape;

struct Machine {
  std::string name = "H100 SXM";
  int sms = 132;
  double clock_ghz = 1.98;
  int fp32_lanes = 128;  // FP32 FMA lanes per SM: 32 per scheduler, or 16 (T4, A100)
  double launch_us = 4.0;
  double epoch_round_trip_us = 20.0;
  double copy_gb_per_s = 25.0;
  double copy_us = 10.0;        // fixed cost of one host copy (driver call and DMA setup)
  double peak_tflops_option = 0.0;  // --peak-tflops; 0: SMs x clock x FP32 lanes x 2
  double hbm_tb_per_s = 3.35;  // the H100 SXM's HBM3 (device memory, whatever its kind)
  double l2_tb_per_s = 5.5;    // what the SMs together read from L2 (a commonly measured figure)
  double l2_mib = 50;
  std::size_t shared_optin_bytes = hf::kH100SharedBytesPerBlock;  // the most dynamic shared memory one block may have

  double peak_tflops() const {
    return peak_tflops_option != 0.0 ? peak_tflops_option : sms * clock_ghz * fp32_lanes * 2.0 / 1000.0;
  }
  // The model issues one warp instruction per scheduler per cycle; where a scheduler has 16 FP32
  // lanes, an FP32 warp instruction holds it two cycles. Applied to the whole step (FMAs are most
  // of it; the loads and integer work would not take two), so on those cards the model errs slow.
  double cycles_per_instruction() const { return 128.0 / fp32_lanes; }
};

// The cards users have, from their datasheets (boost clocks; opt-in shared memory per block as
// CUDA reports it for their compute capability). L2 bandwidths are rounded published
// micro-benchmark figures, less certain than the rest.
Machine card(const std::string& name) {
  Machine m;
  if (name == "h100-sxm") return m;
  if (name == "a100") {  // A100 SXM 80 GB, sm_80
    m.name = "A100 SXM";
    m.sms = 108;
    m.clock_ghz = 1.41;
    m.fp32_lanes = 64;
    m.hbm_tb_per_s = 2.04;
    m.l2_tb_per_s = 4.0;
    m.l2_mib = 40;
    m.shared_optin_bytes = 163 * 1024;
  } else if (name == "l4") {  // sm_89
    m.name = "L4";
    m.sms = 58;
    m.clock_ghz = 2.04;
    m.hbm_tb_per_s = 0.30;
    m.l2_tb_per_s = 1.5;
    m.l2_mib = 48;
    m.shared_optin_bytes = 99 * 1024;
  } else if (name == "rtx4090") {  // sm_89
    m.name = "RTX 4090";
    m.sms = 128;
    m.clock_ghz = 2.52;
    m.hbm_tb_per_s = 1.01;
    m.l2_tb_per_s = 5.0;
    m.l2_mib = 72;
    m.shared_optin_bytes = 99 * 1024;
  } else if (name == "t4") {  // sm_75
    m.name = "T4";
    m.sms = 40;
    m.clock_ghz = 1.59;
    m.fp32_lanes = 64;
    m.hbm_tb_per_s = 0.32;
    m.l2_tb_per_s = 1.0;
    m.l2_mib = 4;
    m.shared_optin_bytes = 64 * 1024;
  } else {
    throw hf::InputError("fused_model: --card " + name +
                         " is not a card it knows; use h100-sxm, a100, l4, rtx4090 or t4");
  }
  return m;
}

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
  std::string card_name;
  bool details = true;
  // --card first, so that the options after it (or before it) override its figures.
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--card") {
      try {
        machine = card(argv[i + 1]);
      } catch (const hf::InputError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
      }
    }
  }
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
      machine.peak_tflops_option = std::atof(next());
    else if (arg == "--hbm-tb-per-s")
      machine.hbm_tb_per_s = std::atof(next());
    else if (arg == "--l2-tb-per-s")
      machine.l2_tb_per_s = std::atof(next());
    else if (arg == "--card")
      card_name = next();
    else if (arg == "--brief")
      details = false;
    else if (arg == "--help") {
      std::puts(
          "usage: fused_model [CONFIG] [--train-rows N] [--test-rows N] [--features N] [--measured SECONDS]\n"
          "                   [--counters FILE --counted-packs P --counted-epochs E] [--sms N] [--clock-ghz X]\n"
          "                   [--launch-us X] [--round-trip-us X] [--copy-gb-per-s X] [--copy-us X]\n"
          "                   [--peak-tflops X] [--hbm-tb-per-s X] [--l2-tb-per-s X] [--brief]\n"
          "                   [--card h100-sxm|a100|l4|rtx4090|t4]  (its SMs, clock, FP32 lanes, bandwidths and\n"
          "                   shared-memory limit, which the plan uses; the options above then override it)");
      return 0;
    } else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr, "fused_model: unknown option %s (see fused_model --help)\n", arg.c_str());
      return 2;
    } else {
      config_path = arg;
    }
  }
  // A zero or negative figure (or a value atof could not read) would divide by zero below.
  for (const double figure : {machine.clock_ghz, machine.copy_gb_per_s, machine.peak_tflops(), machine.hbm_tb_per_s,
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
    std::printf(
        "fused model: %s, %d training rows, %d test rows, %zu packs, %zu trainings, on %s (%d SMs, %d KiB of "
        "shared memory a block, %.0f MiB L2)\n",
        config_path.c_str(), train_rows, test_rows, plan.packs.size(), plan.trainings.size(), machine.name.c_str(),
        machine.sms, static_cast<int>(machine.shared_optin_bytes / 1024), machine.l2_mib);
    double most_launches_per_epoch = 0.0;
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
                                                      machine.shared_optin_bytes);
      const int batch = std::min(pack.spec.batch_size, train_rows);
      const int steps = hf::steps_per_epoch(train_rows, batch);
      double pack_seconds = 0.0, pack_l2_bytes = 0.0, pack_hbm_bytes = 0.0;
      double example = 0.0;
      // The global scratch of the blocks that run at once: in L2 while it fits there, else each
      // step's scratch passes go to device memory.
      const bool scratch_in_l2 = 4.0 * fused.global_words_per_network * std::min(pack.spec.models(), machine.sms) <=
                                 machine.l2_mib * 1024 * 1024;
      for (const hf::PackMember& m : pack.spec.members) {
        const hf::FusedStepCycles step = hf::fused_step_cycles(fused, m.activation, m.optimizer, m.dropout > 0.0);
        example = std::max(example, step.total());
        pack_seconds +=
            (step.total() * steps * m.max_epochs + hf::fused_evaluation_cycles(fused, m.activation, test_rows)) *
            machine.cycles_per_instruction() / hz;
        const Traffic moved = traffic(fused, pack.spec.layout, hf::optimizer_state_count(m.optimizer));
        (scratch_in_l2 ? pack_l2_bytes : pack_hbm_bytes) += moved.l2_bytes_per_step * steps * m.max_epochs;
        pack_hbm_bytes += moved.hbm_bytes_per_epoch * m.max_epochs;
      }
      block_seconds += pack_seconds;
      l2_seconds += pack_l2_bytes / (machine.l2_tb_per_s * 1e12);
      hbm_seconds += pack_hbm_bytes / (machine.hbm_tb_per_s * 1e12);
      // The epoch in launches of at most the backend's planned steps (cuda_backend.cu plans the
      // same way from the device's SMs and clock), a parameter check per epoch, one evaluation.
      const int per_launch = hf::planned_steps_per_launch(example * machine.cycles_per_instruction(),
                                                          pack.spec.models(), machine.sms, machine.clock_ghz, steps);
      const double launches_per_epoch = std::ceil(static_cast<double>(steps) / per_launch);
      most_launches_per_epoch = std::max(most_launches_per_epoch, launches_per_epoch);
      launches += (launches_per_epoch + 1.0) * epochs + 1.0;
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
        const hf::FusedStepCycles s = hf::fused_step_cycles(fused, Activation::LeakyReLU, Optimizer::Adam, false);
        std::printf(
            "    tiles (forward/backward):%s; LeakyReLU+Adam step: %.0f cycles (forward %.0f, backward %.0f, "
            "update %.0f, barriers %.0f); slowest network %.0f; %d steps a launch, %.0f launches an epoch%s\n",
            tiles.c_str(), s.total(), s.forward, s.backward, s.update, s.barriers, example, per_launch,
            launches_per_epoch, scratch_in_l2 ? "" : "; the wave's scratch exceeds L2: device memory");
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
        "predicted on %s, %d SMs at %.2f GHz: %.2f s (compute %.2f s; memory %.3f s: L2 %.3f s at %.1f TB/s, device "
        "memory %.3f s at %.2f TB/s; launches and round trips %.3f s, up to %.0f launches an epoch; copies %.3f s): "
        "%.1f TFLOP/s, %.0f%% of %.1f TFLOP/s\n",
        machine.name.c_str(), machine.sms, machine.clock_ghz, predicted, compute, memory, l2_seconds,
        machine.l2_tb_per_s, hbm_seconds, machine.hbm_tb_per_s, overhead, most_launches_per_epoch, copies,
        flops / predicted / 1e12, 100.0 * flops / predicted / 1e12 / machine.peak_tflops(), machine.peak_tflops());
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
