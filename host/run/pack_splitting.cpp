#include "host/run/pack_splitting.hpp"

#include <new>
#include <string>

#include "kernels/backend/byte_size.hpp"
#include "kernels/backend/device_errors.hpp"
#include "kernels/backend/out_of_host_memory.hpp"

namespace hf {
namespace {

std::vector<TrainingOutcome> train_splitting_on_out_of_memory(Backend& backend, const PackSpec& spec,
                                                              const Dataset& train, const EvaluationSets& evaluation,
                                                              const PackOptions& options,
                                                              const std::vector<TrainingState>& start) {
  try {
    return train_pack(backend, spec, train, evaluation, options, start);
  } catch (const OutOfDeviceMemory&) {
    if (spec.models() <= 1) throw;
  }
  // Every network trains on its own numbers, so the halves give each network what the whole
  // pack would have (up to the GEMM library's choice of algorithm for the smaller batch).
  const std::size_t half = static_cast<std::size_t>(spec.models() / 2);
  const auto middle = spec.members.begin() + static_cast<long>(half);
  const PackSpec first{spec.layout, spec.batch_size, {spec.members.begin(), middle}};
  const PackSpec second{spec.layout, spec.batch_size, {middle, spec.members.end()}};
  std::vector<TrainingState> first_start, second_start;
  if (!start.empty()) {
    first_start.assign(start.begin(), start.begin() + static_cast<long>(half));
    second_start.assign(start.begin() + static_cast<long>(half), start.end());
  }
  std::vector<TrainingOutcome> outcomes =
      train_splitting_on_out_of_memory(backend, first, train, evaluation, options, first_start);
  std::vector<TrainingOutcome> rest =
      train_splitting_on_out_of_memory(backend, second, train, evaluation, options, second_start);
  outcomes.insert(outcomes.end(), rest.begin(), rest.end());
  return outcomes;
}

std::string describe(const PlannedPack& pack, std::size_t pack_index, std::size_t pack_count) {
  std::string widths;
  for (int w : pack.spec.layout.widths) widths += (widths.empty() ? "" : "-") + std::to_string(w);
  return "pack " + std::to_string(pack_index + 1) + " of " + std::to_string(pack_count) + " (" +
         std::to_string(pack.spec.models()) + " networks of widths " + widths + ", batch size " +
         std::to_string(pack.spec.batch_size) + ")";
}

}  // namespace

std::vector<TrainingOutcome> train_planned_pack(Backend& backend, const PlannedPack& pack, std::size_t pack_index,
                                                std::size_t pack_count, const Dataset& train,
                                                const EvaluationSets& evaluation,
                                                const std::vector<TrainingState>& start) {
  try {
    return train_splitting_on_out_of_memory(backend, pack.spec, train, evaluation, pack.options, start);
  } catch (const OutOfDeviceMemory& e) {
    throw OutOfDeviceMemory(std::string(e.what()) + " [while training " + describe(pack, pack_index, pack_count) +
                            " on the " + backend.name() + " backend: even one network does not fit]");
  } catch (const DeviceError& e) {
    throw DeviceError(std::string(e.what()) + " [while training " + describe(pack, pack_index, pack_count) +
                      " on the " + backend.name() + " backend]");
  } catch (const OutOfHostMemory& e) {
    throw OutOfHostMemory(std::string(e.what()) + " [while training " + describe(pack, pack_index, pack_count) + "]",
                          e.bytes());
  } catch (const std::bad_alloc&) {
    // Not the workspace (which names its buffer): train_pack's own host buffers.
    const std::size_t bytes = trainer_host_bytes(pack.spec, train.rows, train.features, pack.options.shuffle);
    const std::string fix =
        "; other processes took the memory the plan counted on, or a limit (ulimit -v/-d) applies: free memory, or "
        "use fewer worker threads (-j/--cpu-count), or smaller hidden_layers or batch_size";
    const std::string what = "ran out of host memory while training " + describe(pack, pack_index, pack_count) +
                             " on the " + backend.name() + " backend, whose initial weights and other host buffers";
    throw OutOfHostMemory(what + " need up to " + byte_size(bytes) + fix, bytes);
  }
}

}  // namespace hf
