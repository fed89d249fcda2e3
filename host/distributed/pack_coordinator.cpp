#include "host/distributed/pack_coordinator.hpp"

#include <cstdlib>
#include <deque>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "host/common/errors.hpp"
#include "host/distributed/protocol.hpp"

namespace hf {
namespace {

using Clock = std::chrono::steady_clock;

struct WorkerState {
  bool ready = false;  // said hello
  bool gone = false;
  std::uint64_t wants = 0;  // packs requested and not yet assigned
  std::set<std::size_t> in_flight;
  Clock::time_point last_seen;
  std::string host;
};

// One search's packs handed out to the worker ranks and their results collected: the state of
// the exchange and one method per message. run() polls until every pack of a round is done, or
// until the search is stopping and nothing is in flight. A search is one round, or successive
// halving's one round per rung: the workers, and what they asked for, carry over.
class PackCoordinator {
 public:
  PackCoordinator(MpiSession& mpi, const CoordinatorOptions& options)
      : mpi_(mpi), options_(options), workers_(static_cast<std::size_t>(mpi.size())) {
    const Clock::time_point started = Clock::now();
    for (WorkerState& w : workers_) w.last_seen = started;
  }

  void run(const PreparedSearch& prepared, const PackRunOptions& run, std::vector<TrainingResult>& results) {
    prepared_ = &prepared;
    run_ = &run;
    results_ = &results;
    packs_ = &packs_of(prepared.plan, run);
    pending_.assign(run.packs.begin(), run.packs.end());
    pack_done_.assign(packs_->size(), false);
    done_ = run.trainings_done_before;
    total_ = run.trainings_total ? run.trainings_total : prepared.plan.trainings.size();
    stopping_ = false;
    results.resize(prepared.plan.trainings.size());
    exchange();
    // Halving's next rung reuses the workers; otherwise they may go now.
    if (!run.more_rounds) mpi_.stop_workers();
  }

 private:
  void exchange() {
    auto last_progress = Clock::now();
    while (true) {
      if (!stopping_ && run_->should_stop && run_->should_stop()) stopping_ = true;
      const bool idle = !receive_messages();
      const int alive = give_up_silent_workers();
      // Drop packs finished meanwhile (a given-up worker's result that came in after all).
      while (!pending_.empty() && pack_done_[pending_.front()]) pending_.pop_front();
      if ((pending_.empty() || stopping_) && !anything_in_flight()) break;
      if (alive == 0) {
        throw std::runtime_error("every worker rank is gone with " + std::to_string(pending_.size()) +
                                 " packs left; finished trainings are in the journal: run again to resume");
      }
      if (!stopping_) assign_packs();
      if (run_->progress && Clock::now() - last_progress >= std::chrono::milliseconds(250)) {
        run_->progress(done_, total_);
        last_progress = Clock::now();
      }
      if (idle) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (run_->progress) run_->progress(done_, total_);
  }

  std::string worker_name(int rank) const {
    const WorkerState& w = workers_[static_cast<std::size_t>(rank)];
    return "rank " + std::to_string(rank) + (w.host.empty() ? "" : " on " + w.host);
  }

  // Handles every waiting message; false when there was none.
  bool receive_messages() {
    bool any = false;
    while (auto message = mpi_.poll()) {
      any = true;
      WorkerState& w = workers_.at(static_cast<std::size_t>(message->source));
      if (w.gone) continue;  // too late: its packs went elsewhere
      w.last_seen = Clock::now();
      switch (message->tag) {
        case kTagHello: on_hello(message->source, decode_hello(message->bytes)); break;
        case kTagRequest: w.wants += decode_count(message->bytes); break;
        case kTagResult: on_result(message->source, decode_pack_results(message->bytes)); break;
        case kTagFailure:
          throw std::runtime_error(worker_name(message->source) + ": " +
                                   std::string(message->bytes.begin(), message->bytes.end()));
        default: break;  // heartbeats only refresh last_seen
      }
    }
    return any;
  }

  // A worker is ready once it shows it planned the same search as rank 0.
  void on_hello(int rank, const WorkerHello& hello) {
    WorkerState& w = workers_[static_cast<std::size_t>(rank)];
    w.host = hello.host;
    if (!hello.error.empty()) {
      const std::string text = worker_name(rank) + ": " + hello.error;
      if (hello.error_exit_status == 2) throw InputError(text);
      throw std::runtime_error(text);
    }
    if (hello.study_hash != prepared_->identity.hash) {
      throw InputError(worker_name(rank) + " read a different config or data than rank 0 (study " + hello.study_hash +
                       " against " + prepared_->identity.hash +
                       "); every rank needs the same config and data files, e.g. on a shared filesystem");
    }
    if (hello.drawn_values != drawn_values_hash(prepared_->plan)) {
      throw InputError(worker_name(rank) +
                       " drew other values from the config's ranges than rank 0; the ranks' math libraries "
                       "differ in the last digits: run every rank on the same system image");
    }
    if (hello.packs != prepared_->plan.packs.size()) {
      throw InputError(worker_name(rank) + " planned " + std::to_string(hello.packs) + " packs against rank 0's " +
                       std::to_string(prepared_->plan.packs.size()) +
                       "; GPU pack sizes follow the free memory of the GPUs a rank sees, so every rank "
                       "(rank 0 too) needs the same GPU model with the same memory free");
    }
    w.ready = true;
  }

  void on_result(int rank, PackResults pack) {
    WorkerState& w = workers_[static_cast<std::size_t>(rank)];
    w.in_flight.erase(pack.pack);
    if (pack.pack >= pack_done_.size() || pack_done_[pack.pack]) return;  // a duplicate, after a give-up
    const PlannedPack& planned = (*packs_)[pack.pack];
    if (pack.members.size() != planned.trainings.size())
      throw std::runtime_error(worker_name(rank) + " sent a malformed result for pack " + std::to_string(pack.pack));
    pack_done_[pack.pack] = true;
    if (run_->on_pack_done) run_->on_pack_done(pack.pack, pack.members);
    for (std::size_t m = 0; m < pack.members.size(); ++m)
      (*results_)[planned.trainings[m]] = without_parameters(std::move(pack.members[m]));
    done_ += pack.members.size();
  }

  // Gives up workers without a heartbeat within the timeout; returns how many are alive.
  int give_up_silent_workers() {
    const auto now = Clock::now();
    int alive = 0;
    for (int r = 1; r < mpi_.size(); ++r) {
      WorkerState& w = workers_[static_cast<std::size_t>(r)];
      if (w.gone) continue;
      // Before its hello a worker may still be loading data: it gets ten timeouts for that.
      const auto limit = w.ready ? options_.worker_timeout : options_.worker_timeout * 10;
      if (now - w.last_seen > limit) {
        give_up(r, "stopped answering");
        continue;
      }
      ++alive;
    }
    return alive;
  }

  void give_up(int rank, const std::string& why) {
    WorkerState& w = workers_[static_cast<std::size_t>(rank)];
    w.gone = true;
    mpi_.mark_gone(rank);
    // Its packs go back to the front of the queue, for the other workers.
    for (auto p = w.in_flight.rbegin(); p != w.in_flight.rend(); ++p) pending_.push_front(*p);
    if (options_.warn) {
      options_.warn(worker_name(rank) + " " + why + "; its " + std::to_string(w.in_flight.size()) +
                    " packs in flight go to the other ranks");
    }
    w.in_flight.clear();
    w.wants = 0;
  }

  bool anything_in_flight() const {
    for (const WorkerState& w : workers_)
      if (!w.in_flight.empty()) return true;
    return false;
  }

  // Each ready worker gets as many pending packs as it asked for.
  void assign_packs() {
    for (int r = 1; r < mpi_.size() && !pending_.empty(); ++r) {
      WorkerState& w = workers_[static_cast<std::size_t>(r)];
      if (w.gone || !w.ready || w.wants == 0) continue;
      std::vector<std::size_t> packs;
      while (w.wants > 0 && !pending_.empty()) {
        if (!pack_done_[pending_.front()]) {
          packs.push_back(pending_.front());
          --w.wants;
        }
        pending_.pop_front();
      }
      if (packs.empty()) continue;
      w.in_flight.insert(packs.begin(), packs.end());
      if (run_->rung_packs == nullptr) {
        mpi_.send(r, kTagAssign, encode_pack_indices(packs));
        continue;
      }
      // Planned here, so sent whole, with the states the members continue from.
      std::vector<PackOrder> orders;
      for (std::size_t p : packs) {
        orders.push_back({p, packs_->size(), (*packs_)[p], run_->start_states(p)});
        orders.back().planned.trainings.clear();
      }
      mpi_.send(r, kTagAssignPacks, encode_pack_orders(orders));
    }
  }

  MpiSession& mpi_;
  const CoordinatorOptions options_;
  std::vector<WorkerState> workers_;
  // The round in progress.
  const PreparedSearch* prepared_ = nullptr;
  const PackRunOptions* run_ = nullptr;
  std::vector<TrainingResult>* results_ = nullptr;
  const std::vector<PlannedPack>* packs_ = nullptr;
  std::deque<std::size_t> pending_;
  std::vector<bool> pack_done_;
  std::size_t done_ = 0;
  std::size_t total_ = 0;
  bool stopping_ = false;
};

}  // namespace

std::chrono::milliseconds worker_timeout_from_environment() {
  if (const char* value = std::getenv("HYPERFUSE_MPI_WORKER_TIMEOUT")) {
    const double seconds = std::atof(value);
    if (seconds > 0) return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  }
  return std::chrono::milliseconds(30000);
}

PackExecutor coordinate_workers(MpiSession& mpi, const CoordinatorOptions& options) {
  auto coordinator = std::make_shared<PackCoordinator>(mpi, options);
  return [coordinator](const PreparedSearch& prepared, const PackRunOptions& run,
                       std::vector<TrainingResult>& results) { coordinator->run(prepared, run, results); };
}

}  // namespace hf
