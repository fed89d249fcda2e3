// How many processes the launcher started: mpirun and srun tell each process through its
// environment. A build without MPI uses this to refuse to run N copies of the same search.
#pragma once

namespace hf {

// The world size mpirun (Open MPI, MPICH) or srun announced, or 1.
int ranks_from_launcher();

}  // namespace hf
