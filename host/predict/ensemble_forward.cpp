#include "host/predict/ensemble_forward.hpp"

#include <algorithm>
#include <stdexcept>

#include "host/training/pack_trainer.hpp"
#include "kernels/cpu/cpu_backend.hpp"

namespace hf {

std::vector<std::vector<float>> rerun_probabilities(const StoredEnsemble& ensemble, const Dataset& rows) {
  const ParameterLayout layout(ensemble.widths);
  if (rows.features != layout.in(0)) throw std::logic_error("rows of another width than the model's input");
  // One pack of the reruns; only the activation matters in evaluation mode.
  PackSpec spec{layout, 1, {}};
  for (std::size_t r = 0; r < ensemble.parameters.size(); ++r) {
    PackMember member;
    member.activation = ensemble.activation;
    spec.members.push_back(member);
  }
  std::vector<float> parameters(spec.members.size() * layout.size, 0.0f);
  for (std::size_t r = 0; r < ensemble.parameters.size(); ++r) {
    std::copy(ensemble.parameters[r].begin(), ensemble.parameters[r].end(), parameters.begin() + r * layout.size);
  }
  CpuBackend backend;
  const int batch_rows = std::max(1, std::min(kEvaluationRows, rows.rows));
  std::unique_ptr<PackWorkspace> ws = backend.create_workspace(spec, batch_rows);
  ws->write_parameters(parameters.data());

  const int models = spec.models();
  const int last = layout.layers() - 1;
  std::vector<std::vector<float>> outputs(models, std::vector<float>(rows.rows));
  std::vector<float> batch_outputs(static_cast<std::size_t>(models) * batch_rows);
  const std::vector<float> no_labels(batch_rows, 0.0f);
  for (int start = 0; start < rows.rows; start += kEvaluationRows) {
    const int count = std::min(kEvaluationRows, rows.rows - start);
    ws->load_batch(rows.row(start), no_labels.data(), count);
    forward_pass(*ws, layout.layers(), StepInfo{0, count, Mode::Evaluation, nullptr});
    ws->read_layer(last, LayerBuffer::Activation, count, batch_outputs.data());
    for (int m = 0; m < models; ++m) {
      std::copy(batch_outputs.begin() + static_cast<std::ptrdiff_t>(m) * count,
                batch_outputs.begin() + static_cast<std::ptrdiff_t>(m + 1) * count, outputs[m].begin() + start);
    }
  }
  return outputs;
}

std::vector<double> ensemble_probabilities(const std::vector<std::vector<float>>& per_rerun) {
  if (per_rerun.empty()) return {};
  std::vector<double> mean(per_rerun.front().size(), 0.0);
  for (const std::vector<float>& outputs : per_rerun) {
    for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += outputs[i];
  }
  for (double& m : mean) m /= static_cast<double>(per_rerun.size());
  return mean;
}

}  // namespace hf
