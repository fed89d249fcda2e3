// Reads HYPERFUSE_MAX_STEPS_PER_LAUNCH (steps_per_launch.hpp).
#include "host/training/steps_per_launch.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>

#include "host/common/errors.hpp"

namespace hf {

int max_steps_per_launch_from_environment() {
  const char* value = std::getenv(kMaxStepsPerLaunchVariable);
  if (value == nullptr || *value == '\0') return 0;
  char* end = nullptr;
  errno = 0;
  const long steps = std::strtol(value, &end, 10);
  if (*end != '\0' || errno != 0 || steps < 1 || steps > INT_MAX) {
    throw InputError(std::string(kMaxStepsPerLaunchVariable) + "='" + value +
                     "' is not a number of steps; write a whole number of at least 1 (e.g. 100), or unset it to let "
                     "the GPU backend plan its launches");
  }
  return static_cast<int>(steps);
}

}  // namespace hf
