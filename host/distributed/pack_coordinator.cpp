#include "host/distributed/pack_coordinator.hpp"

#include <cstdlib>
#include <deque>
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

std::string worker_name(int rank, const WorkerState& w) {
  return "rank " + std::to_string(rank) + (w.host.empty() ? "" : " on " + w.host);
}

}  // namespace

std::chrono::milliseconds worker_timeout_from_environment() {
  if (const char* value = std::getenv("HYPERFUSE_MPI_WORKER_TIMEOUT")) {
    const double seconds = std::atof(value);
    if (seconds > 0) return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  }
  return std::chrono::milliseconds(30000);
}

PackExecutor coordinate_workers(MpiSession& mpi, const CoordinatorOptions& options) {
  return
      [&mpi, options](const PreparedSearch& prepared, const PackRunOptions& run, std::vector<TrainingResult>& results) {
        results.resize(prepared.plan.trainings.size());
        std::vector<WorkerState> workers(static_cast<std::size_t>(mpi.size()));
        const Clock::time_point started = Clock::now();
        for (WorkerState& w : workers) w.last_seen = started;
        std::deque<std::size_t> pending(run.packs.begin(), run.packs.end());
        std::vector<bool> pack_done(prepared.plan.packs.size(), false);
        std::size_t done = run.trainings_done_before;
        bool stopping = false;
        auto last_progress = Clock::now();

        auto give_up = [&](int rank, const std::string& why) {
          WorkerState& w = workers[static_cast<std::size_t>(rank)];
          w.gone = true;
          mpi.mark_gone(rank);
          // Its packs go back to the front of the queue, for the other workers.
          for (auto p = w.in_flight.rbegin(); p != w.in_flight.rend(); ++p) pending.push_front(*p);
          if (options.warn) {
            options.warn(worker_name(rank, w) + " " + why + "; its " + std::to_string(w.in_flight.size()) +
                         " packs in flight go to the other ranks");
          }
          w.in_flight.clear();
          w.wants = 0;
        };

        while (true) {
          if (!stopping && run.should_stop && run.should_stop()) stopping = true;
          bool idle = true;
          while (auto message = mpi.poll()) {
            idle = false;
            WorkerState& w = workers.at(static_cast<std::size_t>(message->source));
            if (w.gone) continue;  // too late: its packs went elsewhere
            w.last_seen = Clock::now();
            switch (message->tag) {
              case kTagHello: {
                const WorkerHello hello = decode_hello(message->bytes);
                w.host = hello.host;
                if (!hello.error.empty()) {
                  const std::string text = worker_name(message->source, w) + ": " + hello.error;
                  if (hello.error_exit_status == 2) throw InputError(text);
                  throw std::runtime_error(text);
                }
                if (hello.study_hash != prepared.identity.hash) {
                  throw InputError(worker_name(message->source, w) +
                                   " read a different config or data than rank 0 (study " + hello.study_hash +
                                   " against " + prepared.identity.hash +
                                   "); every rank needs the same config and data files, e.g. on a shared filesystem");
                }
                if (hello.packs != prepared.plan.packs.size()) {
                  throw InputError(worker_name(message->source, w) + " planned " + std::to_string(hello.packs) +
                                   " packs against rank 0's " + std::to_string(prepared.plan.packs.size()) +
                                   "; GPU pack sizes follow the free memory of the GPUs a rank sees, so every rank "
                                   "(rank 0 too) needs the same GPU model with the same memory free");
                }
                w.ready = true;
                break;
              }
              case kTagRequest: w.wants += decode_count(message->bytes); break;
              case kTagResult: {
                PackResults pack = decode_pack_results(message->bytes);
                w.in_flight.erase(pack.pack);
                if (pack.pack >= pack_done.size() || pack_done[pack.pack]) break;  // a duplicate, after a give-up
                const PlannedPack& planned = prepared.plan.packs[pack.pack];
                if (pack.members.size() != planned.trainings.size()) {
                  throw std::runtime_error(worker_name(message->source, w) + " sent a malformed result for pack " +
                                           std::to_string(pack.pack));
                }
                pack_done[pack.pack] = true;
                for (std::size_t m = 0; m < pack.members.size(); ++m) results[planned.trainings[m]] = pack.members[m];
                if (run.on_pack_done) run.on_pack_done(pack.pack, pack.members);
                done += pack.members.size();
                break;
              }
              case kTagFailure:
                throw std::runtime_error(worker_name(message->source, w) + ": " +
                                         std::string(message->bytes.begin(), message->bytes.end()));
              default: break;  // heartbeats only refresh last_seen
            }
          }

          const auto now = Clock::now();
          int alive = 0;
          for (int r = 1; r < mpi.size(); ++r) {
            WorkerState& w = workers[static_cast<std::size_t>(r)];
            if (w.gone) continue;
            // Before its hello a worker may still be loading data: it gets ten timeouts for that.
            const auto limit = w.ready ? options.worker_timeout : options.worker_timeout * 10;
            if (now - w.last_seen > limit) {
              give_up(r, "stopped answering");
              continue;
            }
            ++alive;
          }

          // Drop packs finished meanwhile (a given-up worker's result that came in after all).
          while (!pending.empty() && pack_done[pending.front()]) pending.pop_front();
          bool in_flight = false;
          for (const WorkerState& w : workers) in_flight = in_flight || !w.in_flight.empty();
          if ((pending.empty() || stopping) && !in_flight) break;
          if (alive == 0) {
            throw std::runtime_error("every worker rank is gone with " + std::to_string(pending.size()) +
                                     " packs left; finished trainings are in the journal: run again to resume");
          }

          if (!stopping) {
            for (int r = 1; r < mpi.size() && !pending.empty(); ++r) {
              WorkerState& w = workers[static_cast<std::size_t>(r)];
              if (w.gone || !w.ready || w.wants == 0) continue;
              std::vector<std::size_t> packs;
              while (w.wants > 0 && !pending.empty()) {
                if (!pack_done[pending.front()]) {
                  packs.push_back(pending.front());
                  --w.wants;
                }
                pending.pop_front();
              }
              if (packs.empty()) continue;
              w.in_flight.insert(packs.begin(), packs.end());
              mpi.send(r, kTagAssign, encode_pack_indices(packs));
            }
          }

          if (run.progress && now - last_progress >= std::chrono::milliseconds(250)) {
            run.progress(done, prepared.plan.trainings.size());
            last_progress = now;
          }
          if (idle) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        mpi.stop_workers();
        if (run.progress) run.progress(done, prepared.plan.trainings.size());
      };
}

}  // namespace hf
