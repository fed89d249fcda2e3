#include "host/search/search_plan.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "host/search/search_space.hpp"
#include "kernels/math/philox.hpp"

namespace hf {
namespace {

PackMember member_for(const TrainingSettings& s, std::uint64_t seed) {
  PackMember m;
  static_cast<NetworkSettings&>(m) = s;
  m.seed = seed;
  return m;
}

}  // namespace

SearchPlan plan_search(const SearchSettings& search, int input_width, int train_rows, int test_rows, int max_pack_size) {
  return plan_search(search, input_width, train_rows, test_rows,
                     [max_pack_size](const ParameterLayout&, int) { return max_pack_size; });
}

SearchPlan plan_search(const SearchSettings& search, int input_width, int train_rows, int test_rows,
                       const PackSizeRule& pack_size_rule) {
  SearchPlan plan;
  for (std::uint64_t number :
       choose_combinations(search.axes, search.explore_all_combinations, search.combinations_to_try, search.seed)) {
    PlannedCombination c;
    c.number = number;
    c.values = combination_values(search.axes, number);
    c.settings = resolve_settings(search.axes, c.values);
    plan.combinations.push_back(std::move(c));
  }
  for (std::size_t c = 0; c < plan.combinations.size(); ++c) {
    for (int rerun = 0; rerun < search.rerun_count; ++rerun) {
      plan.trainings.push_back({c, rerun, training_seed(search.seed, plan.combinations[c].number, rerun)});
    }
  }

  // Shuffled trainings share their rerun's order, so reruns differ while combinations are
  // compared on equal data order, and packs stay large.
  using PackKey = std::tuple<std::vector<int>, int, std::uint64_t>;
  std::map<PackKey, std::vector<std::size_t>> groups;
  std::vector<PackKey> first_seen;
  for (std::size_t t = 0; t < plan.trainings.size(); ++t) {
    const PlannedTraining& training = plan.trainings[t];
    const TrainingSettings& s = plan.combinations[training.combination].settings;
    const std::uint64_t order =
        search.shuffle ? mix64(search.seed ^ mix64(static_cast<std::uint64_t>(training.rerun))) : 0;
    PackKey key{layer_widths(input_width, s.hidden_multiples), s.batch_size, order};
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) first_seen.push_back(key);
    it->second.push_back(t);
  }
  for (const PackKey& key : first_seen) {
    const std::vector<std::size_t>& members = groups[key];
    const int max_pack_size = std::max(1, pack_size_rule(ParameterLayout(std::get<0>(key)), std::get<1>(key)));
    for (std::size_t begin = 0; begin < members.size(); begin += static_cast<std::size_t>(max_pack_size)) {
      PlannedPack pack{PackSpec{ParameterLayout(std::get<0>(key)), std::get<1>(key), {}}, {}, {}, 0.0};
      pack.options.prediction_threshold = static_cast<float>(search.prediction_threshold);
      pack.options.shuffle = search.shuffle;
      pack.options.order_seed = std::get<2>(key);
      const std::size_t end = std::min(members.size(), begin + static_cast<std::size_t>(max_pack_size));
      for (std::size_t i = begin; i < end; ++i) {
        const PlannedTraining& training = plan.trainings[members[i]];
        const TrainingSettings& s = plan.combinations[training.combination].settings;
        pack.spec.members.push_back(member_for(s, training.seed));
        pack.trainings.push_back(members[i]);
        pack.flops += training_flops(pack.spec.layout, s.max_epochs, train_rows, test_rows);
      }
      plan.total_flops += pack.flops;
      plan.packs.push_back(std::move(pack));
    }
  }
  std::stable_sort(plan.packs.begin(), plan.packs.end(),
                   [](const PlannedPack& a, const PlannedPack& b) { return a.flops > b.flops; });
  return plan;
}

}  // namespace hf
