#include "host/run/successive_halving.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "host/common/errors.hpp"
#include "host/run/resumed_results.hpp"
#include "host/scoring/rung_decision.hpp"

namespace hf {
namespace {

std::string numbers_text(const std::vector<std::uint64_t>& numbers) {
  std::string text;
  for (std::size_t i = 0; i < numbers.size() && i < 8; ++i) text += (i ? ", " : "") + std::to_string(numbers[i]);
  return text + (numbers.size() > 8 ? ", ..." : "");
}

}  // namespace

SuccessiveHalving::SuccessiveHalving(const SearchConfig& config, const PreparedSearch& prepared, StudyJournal& journal)
    : config_(config), prepared_(prepared), journal_(journal) {
  const SearchPlan& plan = prepared.plan;
  const int max_epochs =
      plan.combinations.empty() ? config.search.min_epochs : plan.combinations.front().settings.max_epochs;
  rungs_ =
      halving_rungs(config.search.min_epochs, max_epochs, config.search.reduction_factor, plan.combinations.size());
  const std::size_t count = rungs_.size();
  candidates_.assign(count, {});
  decided_.assign(count, false);
  results_.assign(count, std::vector<TrainingResult>(plan.trainings.size()));
  reruns_.assign(plan.combinations.size(), {});
  for (std::size_t t = 0; t < plan.trainings.size(); ++t) reruns_[plan.trainings[t].combination].push_back(t);
  for (std::size_t c = 0; c < plan.combinations.size(); ++c) candidates_[0].push_back(c);
  decided_[0] = true;

  std::map<int, int> rung_of_epochs;
  for (std::size_t k = 0; k < count; ++k) rung_of_epochs[rungs_[k].epochs] = static_cast<int>(k);
  const TrainingIndex index = index_trainings(plan);
  for (const JournalEntry& e : journal.finished()) {
    const auto rung = rung_of_epochs.find(e.epochs_trained);
    if (rung == rung_of_epochs.end()) {
      throw InputError(journal.path().string() + ": holds a training of combination " + std::to_string(e.combination) +
                       " after " + std::to_string(e.epochs_trained) +
                       " epochs, which is no rung of this halving; run with --fresh to start this study over");
    }
    results_[rung->second][training_of(index, plan, e, journal.path())] =
        journal_result(e, prepared.ranking().rows, journal.path());
    ++resumed_;
  }
  std::map<std::uint64_t, std::size_t> combination_of_number;
  for (std::size_t c = 0; c < plan.combinations.size(); ++c) combination_of_number[plan.combinations[c].number] = c;
  for (const RungDecision& d : journal.decisions()) {
    if (d.rung < 1 || d.rung >= static_cast<int>(count) || d.epochs != rungs_[d.rung].epochs) {
      throw InputError(journal.path().string() + ": records a decision for rung " + std::to_string(d.rung + 1) +
                       " of " + std::to_string(d.epochs) +
                       " epochs, which this halving does not have; run with --fresh to start this study over");
    }
    for (std::uint64_t number : d.combinations) {
      const auto found = combination_of_number.find(number);
      if (found == combination_of_number.end()) {
        throw InputError(journal.path().string() + ": records combination " + std::to_string(number) +
                         ", which this search does not plan; run with --fresh to start this study over");
      }
      candidates_[d.rung].push_back(found->second);
    }
    std::sort(candidates_[d.rung].begin(), candidates_[d.rung].end());
    decided_[d.rung] = true;
  }
}

std::size_t SuccessiveHalving::trainings_total() const {
  std::size_t total = 0;
  for (const HalvingRung& r : rungs_) total += r.candidates * static_cast<std::size_t>(config_.search.rerun_count);
  return total;
}

std::size_t SuccessiveHalving::trainings_done() const {
  std::size_t done = 0;
  for (const std::vector<TrainingResult>& rung : results_)
    for (const TrainingResult& r : rung) done += r.done;
  return done;
}

std::vector<std::size_t> SuccessiveHalving::trainings_of(int rung) const {
  std::vector<std::size_t> trainings;
  for (std::size_t c : candidates_[rung]) trainings.insert(trainings.end(), reruns_[c].begin(), reruns_[c].end());
  return trainings;
}

bool SuccessiveHalving::rung_complete(int rung) const {
  if (!decided_[rung]) return false;
  for (std::size_t t : trainings_of(rung))
    if (!results_[rung][t].done) return false;
  return true;
}

bool SuccessiveHalving::complete() const { return rung_complete(static_cast<int>(rungs_.size()) - 1); }

int SuccessiveHalving::last_rung_of(std::size_t combination) const {
  for (int k = static_cast<int>(rungs_.size()) - 1; k >= 0; --k) {
    if (!decided_[k] || !std::binary_search(candidates_[k].begin(), candidates_[k].end(), combination)) continue;
    bool all = !reruns_[combination].empty();
    for (std::size_t t : reruns_[combination]) all = all && results_[k][t].done;
    if (all) return k;
  }
  return -1;
}

void SuccessiveHalving::decide(int rung) {
  const SearchPlan& plan = prepared_.plan;
  const std::vector<std::size_t> next =
      rung_survivors(plan, results_[rung], candidates_[rung].size(), config_.search.reduction_factor);

  RungDecision decision{rung + 1, rungs_[rung + 1].epochs, {}};
  for (std::size_t c : next) decision.combinations.push_back(plan.combinations[c].number);
  if (decided_[rung + 1]) {
    // A decision an earlier run recorded: the same results must give the same decision.
    std::vector<std::uint64_t> recorded;
    for (std::size_t c : candidates_[rung + 1]) recorded.push_back(plan.combinations[c].number);
    if (recorded != decision.combinations) {
      throw InputError(journal_.path().string() + ": the journal's candidates for rung " + std::to_string(rung + 2) +
                       " (" + numbers_text(recorded) + ") differ from those its results choose (" +
                       numbers_text(decision.combinations) +
                       "); the journal is damaged or of another hyperfuse version: run with --fresh to start this "
                       "study over");
    }
    return;
  }
  std::vector<std::uint64_t> stopped;
  for (std::size_t c : candidates_[rung]) {
    if (!std::binary_search(next.begin(), next.end(), c)) stopped.push_back(plan.combinations[c].number);
  }
  journal_.record_decision(decision, stopped, rungs_[rung].epochs, config_.search.rerun_count);
  candidates_[rung + 1] = next;
  decided_[rung + 1] = true;
}

void SuccessiveHalving::run(const PackExecutor& execute, PackRunOptions options, const EntryOf& entry_of) {
  for (int k = 0; k < static_cast<int>(rungs_.size()); ++k) {
    if (k > 0) {
      if (!rung_complete(k - 1)) return;  // stopped during the rung before
      decide(k - 1);
    }
    if (rung_complete(k)) continue;
    if (options.should_stop && options.should_stop()) return;
    train_rung(k, execute, options, entry_of);
  }
}

void SuccessiveHalving::train_rung(int rung, const PackExecutor& execute, PackRunOptions options,
                                   const EntryOf& entry_of) {
  const SearchPlan& plan = prepared_.plan;
  std::vector<std::size_t> todo;
  for (std::size_t t : trainings_of(rung))
    if (!results_[rung][t].done) todo.push_back(t);
  const bool first = rung == 0;
  const bool last = rung + 1 == static_cast<int>(rungs_.size());

  // The first rung trains the plan's packs, as every MPI rank planned them; a later rung plans
  // the packs of its remaining trainings here, continuing from their states.
  std::vector<PlannedPack> rung_packs;
  if (first) {
    for (std::size_t p = 0; p < plan.packs.size(); ++p) {
      const std::vector<std::size_t>& members = plan.packs[p].trainings;
      if (std::any_of(members.begin(), members.end(), [&](std::size_t t) { return !results_[0][t].done; })) {
        options.packs.push_back(p);
        flops_ += plan.packs[p].flops;
      }
    }
  } else {
    rung_packs =
        plan_packs(config_.search, plan, todo, prepared_.planning, rungs_[rung - 1].epochs, rungs_[rung].epochs);
    for (std::size_t p = 0; p < rung_packs.size(); ++p) {
      rung_packs[p].options.keep_state = !last;
      rung_packs[p].options.keep_parameters = config_.keep_models > 0;
      options.packs.push_back(p);
      flops_ += rung_packs[p].flops;
    }
    options.rung_packs = &rung_packs;
    const int from = rungs_[rung - 1].epochs;
    options.start_states = [&, from](std::size_t p) {
      std::vector<TrainingState> states;
      for (std::size_t t : rung_packs[p].trainings) {
        const PlannedTraining& training = plan.trainings[t];
        states.push_back(journal_.read_state(plan.combinations[training.combination].number, training.rerun, from));
      }
      return states;
    };
  }
  const int epochs = rungs_[rung].epochs;
  options.on_pack_done = [&](std::size_t p, const std::vector<TrainingResult>& members) {
    const std::vector<std::size_t>& trainings = first ? plan.packs[p].trainings : rung_packs[p].trainings;
    std::vector<JournalEntry> entries;
    for (std::size_t m = 0; m < members.size(); ++m) {
      if (results_[rung][trainings[m]].done) continue;  // resumed: its journal row stands
      JournalEntry e = entry_of(trainings[m], members[m]);
      e.epochs_trained = epochs;
      if (!members[m].outcome.state.empty()) e.state = training_state_bytes(members[m].outcome.state);
      e.continued_from = first ? 0 : rungs_[rung - 1].epochs;
      entries.push_back(std::move(e));
    }
    journal_.record(std::move(entries));
  };
  options.more_rounds = !last;
  options.trainings_done_before = trainings_done();
  options.trainings_total = trainings_total();

  std::vector<TrainingResult> trained;
  if (execute) {
    execute(prepared_, options, trained);
  } else {
    run_packs(plan, prepared_.train, prepared_.evaluation(), options, trained);
  }
  journal_.flush();
  for (std::size_t t : todo) {
    if (t < trained.size() && trained[t].done) results_[rung][t] = std::move(trained[t]);
  }
}

std::vector<TrainingResult> SuccessiveHalving::last_results() const {
  std::vector<TrainingResult> results(prepared_.plan.trainings.size());
  for (std::size_t c = 0; c < reruns_.size(); ++c) {
    const int k = last_rung_of(c);
    if (k < 0) continue;
    for (std::size_t t : reruns_[c]) results[t] = results_[k][t];
  }
  return results;
}

std::vector<int> SuccessiveHalving::epochs_trained() const {
  std::vector<int> epochs(reruns_.size(), 0);
  for (std::size_t c = 0; c < reruns_.size(); ++c) {
    const int k = last_rung_of(c);
    if (k >= 0) epochs[c] = rungs_[k].epochs;
  }
  return epochs;
}

std::vector<std::vector<const RowBitset*>> SuccessiveHalving::earlier_rungs() const {
  std::vector<std::vector<const RowBitset*>> family;
  for (std::size_t c = 0; c < reruns_.size(); ++c) {
    const int last = last_rung_of(c);
    for (int k = 0; k < last; ++k) {
      std::vector<const RowBitset*> reruns;
      for (std::size_t t : reruns_[c]) {
        const TrainingResult& r = results_[k][t];
        if (r.done && !r.outcome.failed) reruns.push_back(&r.outcome.predicted_positives);
      }
      if (reruns.size() == reruns_[c].size()) family.push_back(std::move(reruns));
    }
  }
  return family;
}

}  // namespace hf
