// A worker rank of a search across MPI ranks: prepares the same plan as rank 0, then trains the
// packs rank 0 hands it on its own worker threads and sends back their results (protocol.hpp).
#pragma once

#include <functional>

#include "host/config/search_config.hpp"
#include "host/distributed/mpi_session.hpp"

namespace hf {

// Serves until rank 0 says stop; returns the exit status for this rank (0: rank 0 reports any
// error, so that mpirun's status is rank 0's).
int serve_packs(MpiSession& mpi, const std::function<SearchConfig()>& load_config);

}  // namespace hf
