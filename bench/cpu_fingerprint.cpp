// cpu_fingerprint: proof that a change to the CPU kernels left their results bit for bit as
// they were. Trains one small network for every activation x loss x optimizer, with and without
// dropout, L1 and L2, for a few dozen steps of the example data on the CPU backend, then prints
// per network a hash of its final parameters and of its evaluation outputs on the test rows.
// Run it built from two commits and diff the outputs: any rounding change shows as a changed
// hash, and the line names the combination that changed.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "host/common/errors.hpp"
#include "host/config/search_config.hpp"
#include "host/run/prepared_search.hpp"
#include "host/training/pack_trainer.hpp"
#include "host/training/weight_init.hpp"
#include "kernels/cpu/cpu_backend.hpp"

namespace {

// FNV-1a over the bytes of the floats, so a one-ulp change changes the hash.
std::uint64_t hash_floats(const float* values, std::size_t count) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < count; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &values[i], sizeof bits);
    for (int b = 0; b < 4; ++b) {
      h ^= (bits >> (8 * b)) & 0xffu;
      h *= 1099511628211ull;
    }
  }
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string config_path = argc > 1 ? argv[1] : "bench/seed_network.toml";
  constexpr int kSteps = 40, kBatch = 32, kTestRows = 256;
  try {
    hf::SearchConfig config = hf::load_search_config(config_path);
    config.device = hf::Device::Cpu;
    config.cpu_count = 1;
    const hf::PreparedSearch prepared = hf::prepare_search(config);
    const hf::Dataset& train = prepared.train;
    const hf::Dataset& test = prepared.test;
    // Two hidden layers, one of them narrower than a vector, so loop tails are exercised.
    const hf::ParameterLayout layout(hf::layer_widths(train.features, {1.0, 0.3}));
    const int layers = layout.layers();

    hf::CpuBackend backend;
    std::printf("# cpu_fingerprint: widths");
    for (int w : layout.widths) std::printf(" %d", w);
    std::printf(", %d steps of %d rows, evaluation on %d test rows\n", kSteps, kBatch, kTestRows);
    for (int regularized = 0; regularized < 2; ++regularized) {
      for (int loss = 0; loss < hf::kLossCount; ++loss) {
        for (int optimizer = 0; optimizer < hf::kOptimizerCount; ++optimizer) {
          // One pack per (loss, optimizer, regularization): a network per activation.
          hf::PackSpec spec{layout, kBatch, {}};
          for (int a = 0; a < hf::kActivationCount; ++a) {
            hf::PackMember m;
            m.activation = static_cast<hf::Activation>(a);
            m.loss = static_cast<hf::Loss>(loss);
            m.optimizer = static_cast<hf::Optimizer>(optimizer);
            m.learning_rate = optimizer == static_cast<int>(hf::Optimizer::SGD) ? 0.05 : 0.003;
            m.dropout = regularized ? 0.2 : 0.0;
            m.l1 = regularized ? 1e-4 : 0.0;
            m.l2 = regularized ? 1e-3 : 0.0;
            m.max_epochs = 1;
            m.seed =
                1000u * static_cast<unsigned>(loss) + 10u * static_cast<unsigned>(optimizer) + static_cast<unsigned>(a);
            spec.members.push_back(m);
          }
          const int models = spec.models();
          auto ws = backend.create_workspace(spec, kTestRows);
          std::vector<float> parameters(static_cast<std::size_t>(models) * layout.size);
          for (int m = 0; m < models; ++m) {
            const hf::PackMember& member = spec.members[m];
            hf::initialize_parameters(layout, member.weight_init, member.activation == hf::Activation::PReLU,
                                      member.seed, parameters.data() + static_cast<std::size_t>(m) * layout.size);
          }
          ws->write_parameters(parameters.data());
          std::vector<hf::OptimizerStep> scalars(models);
          for (int step = 0; step < kSteps; ++step) {
            const int start = (step * kBatch) % (train.rows - kBatch);
            ws->load_batch(train.row(start), train.y.data() + start, kBatch);
            hf::training_step(*ws, spec,
                              hf::StepInfo{static_cast<std::uint64_t>(step), kBatch, hf::Mode::Training, nullptr},
                              scalars);
          }
          const std::vector<float> losses = ws->read_losses();
          ws->read_parameters(parameters.data());
          ws->load_batch(test.row(0), test.y.data(), kTestRows);
          hf::forward_pass(*ws, layers, hf::StepInfo{0, kTestRows, hf::Mode::Evaluation, nullptr});
          std::vector<float> outputs(static_cast<std::size_t>(models) * kTestRows);
          ws->read_layer(layers - 1, hf::LayerBuffer::Output, kTestRows, outputs.data());
          for (int m = 0; m < models; ++m) {
            std::printf("%-10s %-8s %-8s %-11s parameters %016llx outputs %016llx last loss %.9g\n",
                        regularized ? "dropout+L1" : "plain", hf::kLossNames[loss], hf::kOptimizerNames[optimizer],
                        hf::kActivationNames[m],
                        static_cast<unsigned long long>(
                            hash_floats(parameters.data() + static_cast<std::size_t>(m) * layout.size, layout.size)),
                        static_cast<unsigned long long>(
                            hash_floats(outputs.data() + static_cast<std::size_t>(m) * kTestRows, kTestRows)),
                        static_cast<double>(losses[m]));
          }
        }
      }
    }
  } catch (const hf::InputError& e) {
    std::fprintf(stderr, "cpu_fingerprint: %s\n", e.what());
    return 2;
  }
  return 0;
}
