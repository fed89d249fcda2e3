#include "host/distributed/launch_environment.hpp"

#include <cstdlib>
#include <initializer_list>

namespace hf {

int ranks_from_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS"}) {
    if (const char* value = std::getenv(name)) {
      const int ranks = std::atoi(value);
      if (ranks > 1) return ranks;
    }
  }
  return 1;
}

}  // namespace hf
