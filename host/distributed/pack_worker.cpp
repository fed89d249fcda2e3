#include "host/distributed/pack_worker.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "host/common/errors.hpp"
#include "host/distributed/protocol.hpp"
#include "host/run/device_choice.hpp"
#include "host/run/memory_plan.hpp"
#include "host/run/prepared_search.hpp"

namespace hf {
namespace {

using Clock = std::chrono::steady_clock;

// Trains the packs it is given on `threads` threads, one backend each.
class TrainingPool {
 public:
  explicit TrainingPool(const PreparedSearch& prepared) : prepared_(prepared) {
    for (int t = 0; t < prepared.threads; ++t) threads_.emplace_back([this, t] { work(t); });
  }
  ~TrainingPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
    }
    changed_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  void add(const std::vector<std::size_t>& packs) {
    std::lock_guard<std::mutex> lock(mutex_);
    todo_.insert(todo_.end(), packs.begin(), packs.end());
    changed_.notify_all();
  }

  // Trained packs, waiting up to `wait` for one; rethrows a training thread's failure.
  std::vector<PackResults> take_finished(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, wait, [&] { return !finished_.empty() || failure_; });
    if (failure_) std::rethrow_exception(failure_);
    std::vector<PackResults> out;
    out.swap(finished_);
    return out;
  }

 private:
  void work(int worker) {
    try {
      std::unique_ptr<Backend> backend = prepared_.make_backend(worker);
      while (true) {
        std::size_t pack = 0;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          changed_.wait(lock, [&] { return !todo_.empty() || closing_; });
          if (closing_) return;
          pack = todo_.front();
          todo_.pop_front();
        }
        PackResults results{
            pack, train_and_score_pack(*backend, prepared_.plan, pack, prepared_.train, prepared_.evaluation())};
        std::lock_guard<std::mutex> lock(mutex_);
        finished_.push_back(std::move(results));
        changed_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
      changed_.notify_all();
    }
  }

  const PreparedSearch& prepared_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::size_t> todo_;
  std::vector<PackResults> finished_;
  std::exception_ptr failure_;
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

void wait_for_stop(MpiSession& mpi) {
  while (true) {
    if (auto message = mpi.poll(); message && message->tag == kTagStop) {
      mpi.obey_stop(message->bytes);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

int serve_packs(MpiSession& mpi, const std::function<SearchConfig()>& load_config) {
  WorkerHello hello;
  hello.host = mpi.host();
  std::optional<PreparedSearch> prepared;
  try {
    SearchConfig config = load_config();
    if (config.gpus.empty() && config.device != Device::Cpu) config.gpus = gpus_for_local_rank(mpi.local_rank());
    prepared = prepare_search(config);
    const MemoryFit fit = fit_to_memory(config, *prepared, estimate_memory(*prepared), host_memory());
    prepared->threads = fit.threads;
    if (!fit.notice.empty()) std::fprintf(stderr, "rank %d: %s\n", mpi.rank(), fit.notice.c_str());
    hello.study_hash = prepared->identity.hash;
    hello.packs = prepared->plan.packs.size();
    hello.threads = prepared->threads;
    hello.backend = prepared->backend;
  } catch (const InputError& e) {
    hello.error = e.what();
    hello.error_exit_status = 2;
  } catch (const std::exception& e) {
    hello.error = e.what();
    hello.error_exit_status = 1;
  }
  mpi.send(0, kTagHello, encode_hello(hello));
  if (!hello.error.empty()) {
    wait_for_stop(mpi);  // rank 0 reports the error and sets the exit status
    return 0;
  }

  const std::string where = ", rank " + std::to_string(mpi.rank()) + " on " + mpi.host();
  try {
    TrainingPool pool(*prepared);
    // One pack in hand per thread: a fast node asks again as soon as it finishes one.
    mpi.send(0, kTagRequest, encode_count(static_cast<std::uint64_t>(prepared->threads)));
    auto last_heartbeat = Clock::now();
    while (true) {
      while (auto message = mpi.poll()) {
        if (message->tag == kTagStop) {
          mpi.obey_stop(message->bytes);
          return 0;
        }
        if (message->tag == kTagAssign) pool.add(decode_pack_indices(message->bytes));
      }
      for (PackResults& results : pool.take_finished(std::chrono::milliseconds(2))) {
        for (TrainingResult& m : results.members) m.device += where;  // "cuda:1, rank 2 on node7"
        mpi.send(0, kTagResult, encode_pack_results(results));
        mpi.send(0, kTagRequest, encode_count(1));
      }
      if (Clock::now() - last_heartbeat >= std::chrono::seconds(1)) {
        mpi.send(0, kTagHeartbeat, {});
        last_heartbeat = Clock::now();
      }
    }
  } catch (const std::exception& e) {
    const std::string text = e.what();
    mpi.send(0, kTagFailure, std::vector<char>(text.begin(), text.end()));
    wait_for_stop(mpi);
    return 0;
  }
}

}  // namespace hf
