#include "host/run/pack_runner.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "host/run/pack_splitting.hpp"

namespace hf {

std::vector<TrainingResult> train_and_score_pack(Backend& backend, const SearchPlan& plan, std::size_t pack,
                                                 const Dataset& train, const EvaluationSets& evaluation) {
  std::vector<TrainingOutcome> outcomes =
      train_planned_pack(backend, plan.packs.at(pack), pack, plan.packs.size(), train, evaluation);
  std::vector<TrainingResult> members(outcomes.size());
  for (std::size_t m = 0; m < outcomes.size(); ++m) {
    TrainingResult& r = members[m];
    r.done = true;
    r.outcome = std::move(outcomes[m]);
    r.score = training_score(r.outcome);
    r.device = backend.device();
  }
  return members;
}

void run_packs(const SearchPlan& plan, const Dataset& train, const EvaluationSets& evaluation,
               const PackRunOptions& options, std::vector<TrainingResult>& results) {
  results.resize(plan.trainings.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t done = options.trainings_done_before;
  int running = options.threads;
  std::exception_ptr failure;
  const auto stopping = [&] { return failed || (options.should_stop && options.should_stop()); };

  auto work = [&](int worker) {
    try {
      std::unique_ptr<Backend> backend = options.make_backend(worker);
      for (std::size_t i; !stopping() && (i = next.fetch_add(1)) < options.packs.size();) {
        const std::size_t p = options.packs[i];
        const PlannedPack& pack = plan.packs[p];
        std::vector<TrainingResult> members = train_and_score_pack(*backend, plan, p, train, evaluation);
        if (options.on_pack_done) options.on_pack_done(p, members);
        for (std::size_t m = 0; m < members.size(); ++m)
          results[pack.trainings[m]] = without_parameters(std::move(members[m]));
        std::lock_guard<std::mutex> lock(mutex);
        done += pack.trainings.size();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      failed = true;
    }
    std::lock_guard<std::mutex> lock(mutex);
    --running;
    changed.notify_all();
  };

  std::vector<std::thread> workers;
  for (int t = 0; t < options.threads; ++t) workers.emplace_back(work, t);
  {
    std::unique_lock<std::mutex> lock(mutex);
    while (running > 0) {
      changed.wait_for(lock, std::chrono::milliseconds(250));
      if (options.progress) {
        const std::size_t snapshot = done;
        lock.unlock();
        options.progress(snapshot, plan.trainings.size());
        lock.lock();
      }
    }
  }
  for (std::thread& w : workers) w.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace hf
