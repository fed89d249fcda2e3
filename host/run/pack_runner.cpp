#include "host/run/pack_runner.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "host/run/pack_splitting.hpp"

namespace hf {

std::vector<TrainingResult> run_packs(const SearchPlan& plan, const Dataset& train, const Dataset& test, int threads,
                                      const BackendFactory& make_backend, const ProgressCallback& progress) {
  std::vector<TrainingResult> results(plan.trainings.size());
  std::atomic<std::size_t> next_pack{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t done = 0;
  int running = threads;
  std::exception_ptr failure;

  auto work = [&] {
    try {
      std::unique_ptr<Backend> backend = make_backend();
      for (std::size_t p; !stop && (p = next_pack.fetch_add(1)) < plan.packs.size();) {
        const PlannedPack& pack = plan.packs[p];
        std::vector<TrainingOutcome> outcomes = train_planned_pack(*backend, pack, p, plan.packs.size(), train, test);
        for (std::size_t m = 0; m < outcomes.size(); ++m) {
          TrainingResult& r = results[pack.trainings[m]];
          r.score = outcomes[m].failed ? PrecisionTest{} : precision_p_value(outcomes[m].counts);
          r.outcome = std::move(outcomes[m]);
        }
        std::lock_guard<std::mutex> lock(mutex);
        done += pack.trainings.size();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!failure) failure = std::current_exception();
      stop = true;
    }
    std::lock_guard<std::mutex> lock(mutex);
    --running;
    changed.notify_all();
  };

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(work);
  {
    std::unique_lock<std::mutex> lock(mutex);
    while (running > 0) {
      changed.wait_for(lock, std::chrono::milliseconds(250));
      if (progress) {
        const std::size_t snapshot = done;
        lock.unlock();
        progress(snapshot, plan.trainings.size());
        lock.lock();
      }
    }
  }
  for (std::thread& w : workers) w.join();
  if (failure) std::rethrow_exception(failure);
  return results;
}

}  // namespace hf
