// Ctrl-C and SIGTERM during a search: the first stops the search from taking new work, so that
// what finished is committed and the result files are written for what is complete; a second
// Ctrl-C exits at once (the study journal stays consistent: SQLite commits are atomic).
#pragma once

namespace hf {

// Installs the handlers for its lifetime and restores the previous ones after.
class InterruptionGuard {
 public:
  InterruptionGuard();
  ~InterruptionGuard();
  InterruptionGuard(const InterruptionGuard&) = delete;
  InterruptionGuard& operator=(const InterruptionGuard&) = delete;
};

// The signal that asked the search to stop (SIGINT or SIGTERM), or 0.
int interruption_signal();

// Asks the search to stop as a signal would; for tests and for MPI workers told to stop.
void request_interruption(int signal);

// The exit status for a search stopped by `signal`: 128 + its number (130 for SIGINT, 143 for SIGTERM).
inline int interrupted_exit_status(int signal) { return 128 + signal; }

}  // namespace hf
