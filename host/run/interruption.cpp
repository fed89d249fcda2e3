#include "host/run/interruption.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace hf {
namespace {

std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "read from a signal handler");

struct sigaction previous_interrupt;
struct sigaction previous_terminate;

extern "C" void on_stop_signal(int signal) {
  int expected = 0;
  if (!stop_signal.compare_exchange_strong(expected, signal) && signal == SIGINT) {
    // The second Ctrl-C: the user does not want to wait for the work in flight.
    static const char message[] =
        "\nhyperfuse: interrupted again, exiting now; finished trainings are in the journal\n";
    [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(interrupted_exit_status(SIGINT));
  }
}

}  // namespace

InterruptionGuard::InterruptionGuard() {
  stop_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_interrupt);
  sigaction(SIGTERM, &action, &previous_terminate);
}

InterruptionGuard::~InterruptionGuard() {
  sigaction(SIGINT, &previous_interrupt, nullptr);
  sigaction(SIGTERM, &previous_terminate, nullptr);
}

int interruption_signal() { return stop_signal.load(); }

void request_interruption(int signal) {
  int expected = 0;
  stop_signal.compare_exchange_strong(expected, signal);
}

}  // namespace hf
