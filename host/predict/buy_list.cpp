#include "host/predict/buy_list.hpp"

#include <algorithm>
#include <numeric>

#include "host/common/number_format.hpp"
#include "host/predict/ensemble_forward.hpp"
#include "host/predict/prediction_rows.hpp"
#include "host/report/results_csv.hpp"

namespace hf {

BuyList make_buy_list(const std::filesystem::path& study, int rank, const std::filesystem::path& data) {
  const StoredModels models(study);
  BuyList list;
  list.model = models.ensemble(rank);
  list.threshold = models.inputs().prediction_threshold;
  const PredictionRows rows = read_prediction_rows(data, models.inputs().features());
  const ModelInputs& inputs = models.inputs();
  const StandardScaler scaler = StandardScaler::from_statistics(inputs.mean, inputs.scale, inputs.factor);
  const std::vector<double> probability =
      ensemble_probabilities(rerun_probabilities(list.model, scaler.transform(rows.table)));

  std::vector<std::size_t> order(probability.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return probability[a] > probability[b]; });
  list.csv = rows.has_identifiers ? "identifier,probability,buy\n" : "row,probability,buy\n";
  ConfusionCounts counts;
  for (std::size_t i : order) {
    const bool buy = probability[i] > list.threshold;
    list.buys += buy;
    list.csv += (rows.has_identifiers ? csv_cell(rows.identifiers[i]) : std::to_string(rows.lines[i])) + "," +
                python_float_repr(probability[i]) + "," + (buy ? "1" : "0") + "\n";
    if (rows.has_labels) {
      const bool positive = rows.table.labels[i] > 0.5f;
      counts.tp += buy && positive;
      counts.fp += buy && !positive;
      counts.fn += !buy && positive;
      counts.tn += !buy && !positive;
    }
  }
  list.rows = rows.table.rows;
  if (rows.has_labels) list.against_labels = counts;
  return list;
}

}  // namespace hf
