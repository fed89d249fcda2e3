// Rank 0 of a search across MPI ranks: hands packs out to worker ranks on request, so fast and
// slow nodes both stay busy, and collects their results. A worker that stops answering (no
// heartbeat within the timeout) loses only its packs in flight: they go to the other workers.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "host/distributed/mpi_session.hpp"
#include "host/run/run_search.hpp"

namespace hf {

struct CoordinatorOptions {
  std::chrono::milliseconds worker_timeout{30000};
  std::function<void(const std::string&)> warn;  // a worker was given up, etc.
};

// The executor run_search uses on rank 0 when there are worker ranks.
PackExecutor coordinate_workers(MpiSession& mpi, const CoordinatorOptions& options);

// The worker timeout: HYPERFUSE_MPI_WORKER_TIMEOUT (seconds) when set, else 30 s.
std::chrono::milliseconds worker_timeout_from_environment();

}  // namespace hf
