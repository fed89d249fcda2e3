#include "host/search/search_plan.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "host/search/halving_schedule.hpp"
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

// The combinations a search trains, with the axes their value indices point into.
void choose(const SearchSettings& search, SearchPlan& plan) {
  if (search.has_ranges()) {
    DrawnCombinations drawn = draw_combinations(search.axes, search.combinations_to_try, search.seed);
    plan.axes = std::move(drawn.axes);
    for (std::size_t d = 0; d < drawn.values.size(); ++d) {
      PlannedCombination c;
      c.number = d;
      c.values = std::move(drawn.values[d]);
      plan.combinations.push_back(std::move(c));
    }
  } else {
    plan.axes = search.axes;
    for (std::uint64_t number :
         choose_combinations(search.axes, search.explore_all_combinations, search.combinations_to_try, search.seed)) {
      PlannedCombination c;
      c.number = number;
      c.values = combination_values(search.axes, number);
      plan.combinations.push_back(std::move(c));
    }
  }
  for (PlannedCombination& c : plan.combinations) c.settings = resolve_settings(plan.axes, c.values);
}

}  // namespace

SearchPlan plan_search(const SearchSettings& search, int input_width, int train_rows, int test_rows,
                       int max_pack_size) {
  return plan_search(search, input_width, train_rows, test_rows,
                     [max_pack_size](const ParameterLayout&, int) { return max_pack_size; });
}

SearchPlan plan_search(const SearchSettings& search, int input_width, int train_rows, int test_rows,
                       const PackSizeRule& pack_size_rule) {
  return plan_search(search, PackPlanning{input_width, train_rows, test_rows, pack_size_rule});
}

SearchPlan plan_search(const SearchSettings& search, const PackPlanning& planning) {
  SearchPlan plan;
  choose(search, plan);
  for (std::size_t c = 0; c < plan.combinations.size(); ++c) {
    for (int rerun = 0; rerun < search.rerun_count; ++rerun) {
      plan.trainings.push_back({c, rerun, training_seed(search.seed, plan.combinations[c].number, rerun)});
    }
  }
  std::vector<std::size_t> all(plan.trainings.size());
  for (std::size_t t = 0; t < all.size(); ++t) all[t] = t;
  int last_epoch = 0;
  bool more_rungs = false;
  if (search.halving() && !plan.combinations.empty()) {
    // max_epochs is one value in a halving search (the loader sees to it): the last rung's.
    const int max_epochs = plan.combinations.front().settings.max_epochs;
    const std::vector<HalvingRung> rungs = halving_rungs(search.min_epochs, max_epochs, search.reduction_factor, 1);
    last_epoch = rungs.front().epochs;
    more_rungs = rungs.size() > 1;
  }
  plan.packs = plan_packs(search, plan, all, planning, 0, last_epoch);
  // The first rung's networks go on from where they stop, when there is a rung after it.
  for (PlannedPack& pack : plan.packs) pack.options.keep_state = more_rungs;
  for (const PlannedPack& pack : plan.packs) plan.total_flops += pack.flops;
  return plan;
}

std::vector<PlannedPack> plan_packs(const SearchSettings& search, const SearchPlan& plan,
                                    const std::vector<std::size_t>& trainings, const PackPlanning& planning,
                                    int first_epoch, int last_epoch) {
  // Shuffled trainings share their rerun's order, so reruns differ while combinations are
  // compared on equal data order, and packs stay large.
  using PackKey = std::tuple<std::vector<int>, int, std::uint64_t>;
  std::map<PackKey, std::vector<std::size_t>> groups;
  std::vector<PackKey> first_seen;
  for (std::size_t t : trainings) {
    const PlannedTraining& training = plan.trainings[t];
    const TrainingSettings& s = plan.combinations[training.combination].settings;
    const std::uint64_t order =
        search.shuffle ? mix64(search.seed ^ mix64(static_cast<std::uint64_t>(training.rerun))) : 0;
    PackKey key{layer_widths(planning.input_width, s.hidden_multiples), s.batch_size, order};
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) first_seen.push_back(key);
    it->second.push_back(t);
  }
  std::vector<PlannedPack> packs;
  for (const PackKey& key : first_seen) {
    const std::vector<std::size_t>& members = groups[key];
    const int max_pack_size = std::max(1, planning.max_pack_size(ParameterLayout(std::get<0>(key)), std::get<1>(key)));
    for (std::size_t begin = 0; begin < members.size(); begin += static_cast<std::size_t>(max_pack_size)) {
      PlannedPack pack{PackSpec{ParameterLayout(std::get<0>(key)), std::get<1>(key), {}}, {}, {}, 0.0, first_epoch};
      pack.options.prediction_threshold = static_cast<float>(search.prediction_threshold);
      pack.options.shuffle = search.shuffle;
      pack.options.order_seed = std::get<2>(key);
      const std::size_t end = std::min(members.size(), begin + static_cast<std::size_t>(max_pack_size));
      for (std::size_t i = begin; i < end; ++i) {
        const PlannedTraining& training = plan.trainings[members[i]];
        PackMember member = member_for(plan.combinations[training.combination].settings, training.seed);
        if (last_epoch > 0) member.max_epochs = last_epoch;
        pack.flops += training_flops(pack.spec.layout, member.max_epochs - first_epoch, planning.train_rows,
                                     planning.evaluated_rows);
        pack.spec.members.push_back(member);
        pack.trainings.push_back(members[i]);
      }
      packs.push_back(std::move(pack));
    }
  }
  std::stable_sort(packs.begin(), packs.end(),
                   [](const PlannedPack& a, const PlannedPack& b) { return a.flops > b.flops; });
  return packs;
}

}  // namespace hf
