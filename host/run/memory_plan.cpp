#include "host/run/memory_plan.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "host/common/errors.hpp"
#include "host/run/gpu_workers.hpp"
#include "host/scoring/training_result.hpp"
#include "host/training/pack_trainer.hpp"
#include "kernels/backend/byte_size.hpp"

// How the two measured constants were found (memory_plan.hpp): the peak resident memory of
// `hyperfuse run` (bench/memory_estimate.sh) on 200 training and 100 test rows of 30 features,
// 8 networks [[1]], 1 to 8 worker threads, against the program's peak before loading the data
// (VmHWM then): a CPU-only build with libxsmm 1.17 on Debian 12 grew by 13.8 MiB with 1 thread,
// 11.0 MiB of it libxsmm's registry (counted with the GEMM kernels), and by about 0.1 MiB per
// further thread. The constants round the rest up to 2 MiB and 0.5 MiB. With them the measured
// peak is 0.8 to 0.93 times the estimate for such small searches, and 0.97 to 1.0 times for
// searches whose workspaces dominate (20,000-row batches, 1 to 8 threads).

namespace hf {
namespace {

// A CSV row of the results and its share of the ranking: the values as written, the scores
// and every rerun's p-value.
constexpr std::size_t kResultBytesPerCombination = 512;

std::size_t dataset_bytes(const Dataset& d) { return (d.x.capacity() + d.y.capacity()) * sizeof(float); }

// A parsed table of the same shape (doubles, a float label per row), up to twice over: the
// vectors grow by doubling while the file is read.
std::size_t table_bytes(const Dataset& d) {
  const std::size_t rows = static_cast<std::size_t>(d.rows);
  return 2 * (rows * static_cast<std::size_t>(d.features) * sizeof(double) + rows * sizeof(float));
}

std::size_t plan_bytes(const SearchPlan& plan) {
  std::size_t bytes = plan.trainings.capacity() * sizeof(PlannedTraining);
  for (const PlannedCombination& c : plan.combinations) {
    bytes += sizeof(PlannedCombination) + c.values.capacity() * sizeof(int) +
             c.settings.hidden_multiples.capacity() * sizeof(double);
  }
  for (const PlannedPack& p : plan.packs) {
    bytes += sizeof(PlannedPack) + p.spec.members.capacity() * sizeof(PackMember) +
             p.trainings.capacity() * sizeof(std::size_t) +
             (p.spec.layout.widths.capacity() + 2 * p.spec.layout.weight_offset.capacity()) * sizeof(std::size_t);
  }
  return bytes;
}

// The distinct (in, out, rows) shapes of the layers the search computes: every batch height of
// training (full and last partial batch) and of evaluation, for every planned layout.
std::size_t layer_shapes(const PreparedSearch& prepared) {
  std::set<std::tuple<int, int, int>> shapes;
  const int train_rows = prepared.train.rows, test_rows = prepared.evaluation().rows();
  const int evaluation = std::min(kEvaluationRows, test_rows);
  for (const PlannedPack& pack : prepared.plan.packs) {
    const int batch = std::min(pack.spec.batch_size, train_rows);
    std::set<int> heights{batch, evaluation};
    if (train_rows % batch != 0) heights.insert(train_rows % batch);
    if (test_rows % evaluation != 0) heights.insert(test_rows % evaluation);
    const ParameterLayout& layout = pack.spec.layout;
    for (int l = 0; l < layout.layers(); ++l)
      for (int rows : heights) shapes.insert({layout.in(l), layout.out(l), rows});
  }
  return shapes.size();
}

std::string text_of(const std::vector<int>& widths) {
  std::string text;
  for (int w : widths) text += (text.empty() ? "" : "-") + std::to_string(w);
  return text;
}

std::string rows_of(const SearchPlan& plan, std::size_t pack, const PreparedSearch& prepared) {
  const int rows = workspace_rows(plan.packs[pack].spec.batch_size, prepared.train.rows, prepared.evaluation().rows());
  return std::to_string(rows) + " rows";
}

// "parameters, gradients and optimizer state 3.4 GiB, activations of 256 rows 59 MiB, ...".
std::string breakdown(const WorkspaceBytes& w, const std::string& rows) {
  return "parameters, gradients and optimizer state " + byte_size(w.parameters) + ", activations of " + rows + " " +
         byte_size(w.activations) + ", scratch and counters " + byte_size(w.other);
}

const char* kSmallerNetworks = "use smaller hidden_layers or batch_size for it, or leave it out of [hyperparameters]";

// The combinations (by index) that the listed packs train.
std::size_t combinations_in(const SearchPlan& plan, const std::vector<std::size_t>& packs) {
  std::set<std::size_t> combinations;
  for (std::size_t p : packs)
    for (std::size_t t : plan.packs[p].trainings) combinations.insert(plan.trainings[t].combination);
  return combinations.size();
}

std::string more_combinations(std::size_t count) {
  if (count <= 1) return "";
  return "; " + std::to_string(count - 1) + " more combination" + (count == 2 ? "" : "s") +
         " cannot fit either (the largest is named)";
}

[[noreturn]] void refuse_host(const SearchConfig& config, const PreparedSearch& prepared,
                              const MemoryEstimate& estimate, const HostMemory& host,
                              const std::vector<std::size_t>& too_large) {
  const std::size_t p = too_large.front();
  const PackMemory& m = estimate.packs[p];
  const std::size_t base = estimate.host_peak_with(p) - m.thread_host;
  const std::string where = estimate.on_gpu ? " of host memory beside its GPU" : " of memory on the CPU";
  std::string parts = estimate.on_gpu ? "" : breakdown(m.workspace, rows_of(prepared.plan, p, prepared)) + ", ";
  parts += "initial weights and their scratch " + byte_size(m.trainer_host);
  throw InputError(config.source.string() + ": combination " + combination_of_pack(config, prepared.plan, p) +
                   " cannot fit in memory: one training of it needs an estimated " + byte_size(m.thread_host) + where +
                   " (" + parts + "), and the program, the data and the plan " + byte_size(base) + ", " +
                   byte_size(m.thread_host + base) + " in all, but " + byte_size(host.available_bytes) +
                   " are available (" + host.source + "); " + kSmallerNetworks +
                   ". It does not fit even on one worker thread, so fewer threads (-j/--cpu-count) do not help" +
                   more_combinations(combinations_in(prepared.plan, too_large)));
}

[[noreturn]] void refuse_gpu(const SearchConfig& config, const PreparedSearch& prepared, const MemoryEstimate& estimate,
                             const std::vector<std::size_t>& too_large) {
  const std::size_t p = too_large.front();
  const PlannedPack& pack = prepared.plan.packs[p];
  const int rows = workspace_rows(pack.spec.batch_size, prepared.train.rows, prepared.evaluation().rows());
  const BackendEntry& entry = backend_entry(prepared.device);
  const WorkspaceBytes one = workspace_on_chosen(
      entry, prepared.gpu_memory, PackSpec{pack.spec.layout, pack.spec.batch_size, {pack.spec.members.front()}}, rows);
  std::size_t smallest = 0;
  for (std::size_t g = 1; g < prepared.gpu_memory.size(); ++g)
    if (prepared.gpu_memory[g].free_bytes < prepared.gpu_memory[smallest].free_bytes) smallest = g;
  const DeviceMemory& gpu = prepared.gpu_memory[smallest];
  throw InputError(config.source.string() + ": combination " + combination_of_pack(config, prepared.plan, p) +
                   " cannot fit on the GPU: one network of it needs an estimated " + byte_size(one.total()) +
                   " of GPU memory (" + breakdown(one, std::to_string(rows) + " rows") + "), but GPU " +
                   std::to_string(prepared.device.gpus[smallest]) + " (" + gpu.name + ") has " +
                   byte_size(gpu.free_bytes) + " free; " + kSmallerNetworks + ", or train on the CPU (--device cpu)" +
                   more_combinations(combinations_in(prepared.plan, too_large)));
}

// One line when GPU memory, not the pack size cap, split a layout's trainings into several packs.
std::string gpu_pack_notice(const PreparedSearch& prepared) {
  using Key = std::tuple<std::vector<int>, int, std::uint64_t>;
  std::map<Key, std::pair<std::size_t, int>> packs_and_largest;  // packs, most networks in one
  std::vector<Key> order;
  for (const PlannedPack& pack : prepared.plan.packs) {
    const Key key{pack.spec.layout.widths, pack.spec.batch_size, pack.options.order_seed};
    auto [it, inserted] = packs_and_largest.try_emplace(key, 0, 0);
    if (inserted) order.push_back(key);
    it->second.first += 1;
    it->second.second = std::max(it->second.second, pack.spec.models());
  }
  std::size_t limited = 0;
  const Key* example = nullptr;
  for (const Key& key : order) {
    const auto& [packs, largest] = packs_and_largest[key];
    if (packs > 1 && largest < kMaxGpuPackSize) {
      if (example == nullptr || largest < packs_and_largest[*example].second) example = &key;
      ++limited;
    }
  }
  if (example == nullptr) return "";
  const auto& [packs, largest] = packs_and_largest[*example];
  std::string text = "hyperfuse: GPU memory: networks of widths " + text_of(std::get<0>(*example)) +
                     " and batch size " + std::to_string(std::get<1>(*example)) + " train at most " +
                     std::to_string(largest) + " to a pack (half the " +
                     byte_size(smallest_free_bytes(prepared.gpu_memory)) + " free on the smallest chosen GPU), so " +
                     std::to_string(packs) + " packs";
  if (limited > 1) text += "; " + std::to_string(limited - 1) + " more layouts are split likewise";
  return text;
}

}  // namespace

std::size_t MemoryEstimate::with_threads_holding(std::size_t thread_bytes) const {
  return fixed + data + bookkeeping + thread_bytes;
}

std::size_t MemoryEstimate::host_peak(int threads) const {
  const std::size_t holding =
      std::min(static_cast<std::size_t>(std::max(threads, 0)), thread_host_largest_first.size());
  std::size_t bytes = (static_cast<std::size_t>(std::max(threads, 0)) - holding) * kPerThreadOverheadBytes;
  for (std::size_t i = 0; i < holding; ++i) bytes += thread_host_largest_first[i];
  return std::max(fixed + data + loading, with_threads_holding(bytes));
}

std::size_t MemoryEstimate::host_peak_with(std::size_t pack) const {
  return with_threads_holding(packs.at(pack).thread_host);
}

std::size_t MemoryEstimate::device_peak() const {
  if (!on_gpu) return 0;
  std::size_t most = 0;
  for (const PackMemory& m : packs) most = std::max(most, m.device);
  return static_cast<std::size_t>(std::max(workers_per_gpu, 1)) * (most + resident_device);
}

MemoryEstimate estimate_memory(const PreparedSearch& prepared) {
  const BackendEntry& entry = backend_entry(prepared.device);
  const SearchPlan& plan = prepared.plan;
  MemoryEstimate estimate;
  estimate.on_gpu = entry.accelerator;
  if (entry.accelerator) {
    estimate.workers_per_gpu = prepared.device.workers_per_gpu;
    estimate.resident_device =
        resident_bytes_per_worker(plan, {&prepared.train, &prepared.validation, &prepared.test}, prepared.train.rows);
  }
  if (entry.library_bytes) estimate.library = entry.library_bytes(layer_shapes(prepared));
  estimate.fixed = prepared.program_bytes + kProgramGrowthBytes + estimate.library;
  estimate.data = dataset_bytes(prepared.train) + dataset_bytes(prepared.validation) + dataset_bytes(prepared.test);
  estimate.loading = prepared.data_file_bytes + table_bytes(prepared.train) + table_bytes(prepared.validation) +
                     table_bytes(prepared.test);
  // run_search keeps a copy of the plan, and of the results to tell resumed trainings apart; each
  // result holds its predicted positives on the ranking rows, one bit a row.
  const std::size_t prediction_bytes = (static_cast<std::size_t>(prepared.ranking().rows) + 63) / 64 * 8;
  estimate.bookkeeping = 2 * plan_bytes(plan) +
                         2 * plan.trainings.size() * (sizeof(TrainingResult) + sizeof(double) + prediction_bytes) +
                         plan.combinations.size() * kResultBytesPerCombination;
  for (const PlannedPack& pack : plan.packs) {
    const int rows = workspace_rows(pack.spec.batch_size, prepared.train.rows, prepared.evaluation().rows());
    PackMemory m;
    m.workspace = workspace_on_chosen(entry, prepared.gpu_memory, pack.spec, rows);
    m.trainer_host = trainer_host_bytes(pack.spec, prepared.train.rows, prepared.train.features, pack.options.shuffle);
    m.thread_host = kPerThreadOverheadBytes + m.trainer_host + (entry.accelerator ? 0 : m.workspace.total());
    if (entry.accelerator) {
      m.device = m.workspace.total();
      m.one_network_device =
          workspace_on_chosen(entry, prepared.gpu_memory,
                              PackSpec{pack.spec.layout, pack.spec.batch_size, {pack.spec.members.front()}}, rows)
              .total();
    }
    estimate.packs.push_back(m);
    estimate.thread_host_largest_first.push_back(m.thread_host);
  }
  std::sort(estimate.thread_host_largest_first.begin(), estimate.thread_host_largest_first.end(),
            std::greater<std::size_t>());
  return estimate;
}

std::string combination_of_pack(const SearchConfig& config, const SearchPlan& plan, std::size_t pack) {
  const PlannedCombination& c = plan.combinations[plan.trainings[plan.packs[pack].trainings.front()].combination];
  std::string text;
  for (std::size_t a = 0; a < plan.axes.size(); ++a) {
    text += (text.empty() ? "" : ", ") + std::string(key_name(plan.axes[a].key)) + " = " + value_of(plan, c, a).text;
  }
  return text;
}

MemoryFit fit_to_memory(const SearchConfig& config, const PreparedSearch& prepared, const MemoryEstimate& estimate,
                        const HostMemory& host) {
  // The packs that cannot train even alone, largest first.
  std::vector<std::size_t> by_size(estimate.packs.size());
  for (std::size_t p = 0; p < by_size.size(); ++p) by_size[p] = p;
  std::stable_sort(by_size.begin(), by_size.end(), [&](std::size_t a, std::size_t b) {
    return estimate.packs[a].thread_host > estimate.packs[b].thread_host;
  });
  std::vector<std::size_t> too_large_for_host, too_large_for_gpu;
  const std::size_t gpu_free = smallest_free_bytes(prepared.gpu_memory);
  for (std::size_t p : by_size) {
    if (estimate.host_peak_with(p) > host.available_bytes) too_large_for_host.push_back(p);
    if (estimate.on_gpu && estimate.packs[p].one_network_device > gpu_free) too_large_for_gpu.push_back(p);
  }
  if (!too_large_for_gpu.empty()) {
    std::stable_sort(too_large_for_gpu.begin(), too_large_for_gpu.end(), [&](std::size_t a, std::size_t b) {
      return estimate.packs[a].one_network_device > estimate.packs[b].one_network_device;
    });
    refuse_gpu(config, prepared, estimate, too_large_for_gpu);
  }
  if (!too_large_for_host.empty()) refuse_host(config, prepared, estimate, host, too_large_for_host);

  MemoryFit fit;
  fit.threads = std::max(1, prepared.threads);
  while (fit.threads > 1 && estimate.host_peak(fit.threads) > host.available_bytes) --fit.threads;
  std::vector<std::string> lines;
  if (fit.threads < prepared.threads) {
    const std::size_t largest = by_size.front();
    const std::string threads =
        std::string(fit.threads == 1 ? " worker thread" : " worker threads") +
        (estimate.on_gpu ? " (up to " + std::to_string(estimate.workers_per_gpu) + " per GPU)" : "");
    lines.push_back("hyperfuse: memory: training with " + std::to_string(fit.threads) + threads + " instead of " +
                    std::to_string(prepared.threads) + ": each needs up to " +
                    byte_size(estimate.packs[largest].thread_host) + " (combination " +
                    combination_of_pack(config, prepared.plan, largest) + "), and " + std::to_string(fit.threads) +
                    " fit in the " + byte_size(host.available_bytes) + " available (" + host.source +
                    "); the results are the same with any thread count");
  }
  if (estimate.on_gpu) {
    const std::string packs = gpu_pack_notice(prepared);
    if (!packs.empty()) lines.push_back(packs);
  }
  for (const std::string& line : lines) fit.notice += (fit.notice.empty() ? "" : "\n") + line;
  return fit;
}

}  // namespace hf
