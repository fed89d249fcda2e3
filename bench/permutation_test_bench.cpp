// The search p-value's permutation test on its own: random predicted positives for a search of
// --combinations x --reruns trainings over --rows ranking rows, shuffled --permutations times
// on --threads threads (rows in blocks of --block). Prints seconds, shuffles/s and network
// recounts/s (one recount: a network's true positives under one shuffle, and its p-value), and
// the CPU seconds of all threads beside the wall-clock ones.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "host/common/random.hpp"
#include "host/scoring/search_significance.hpp"

namespace {

int option(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int combinations = option(argc, argv, "--combinations", 1024);
  const int reruns = option(argc, argv, "--reruns", 3);
  const int rows = option(argc, argv, "--rows", 2000);
  hf::PermutationTest test;
  test.permutations = option(argc, argv, "--permutations", 1000);
  test.threads = option(argc, argv, "--threads", 1);
  test.block = option(argc, argv, "--block", 1);
  test.seed = 42;

  hf::SplitMix64 random(2024);
  const auto uniform = [&] { return static_cast<double>(random.next() >> 11) * 0x1.0p-53; };
  hf::RowBitset positives(rows);
  for (int r = 0; r < rows; ++r) {
    if (uniform() < 0.3) positives.set(r);
  }
  // Each network predicts its own share of the rows positive, a little better than chance.
  std::vector<hf::RowBitset> predicted(static_cast<std::size_t>(combinations) * reruns, hf::RowBitset(rows));
  for (hf::RowBitset& p : predicted) {
    const double share = 0.05 + 0.4 * uniform();
    for (int r = 0; r < rows; ++r) {
      if (uniform() < share * (positives.test(r) ? 1.2 : 0.95)) p.set(r);
    }
  }
  std::vector<std::vector<const hf::RowBitset*>> search(static_cast<std::size_t>(combinations));
  for (std::size_t t = 0; t < predicted.size(); ++t)
    search[t / static_cast<std::size_t>(reruns)].push_back(&predicted[t]);

  const auto started = std::chrono::steady_clock::now();
  const std::clock_t cpu_started = std::clock();  // all threads' CPU time: a shared machine's wall time misleads
  const std::vector<hf::CombinationSignificance> result = hf::search_significance(search, positives, test);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC;
  double smallest = 1.0;
  for (const hf::CombinationSignificance& c : result) smallest = std::min(smallest, c.search_p_value);
  std::printf(
      "permutation test: %d combinations x %d reruns, %d rows, %d permutations (block %d), %d threads: %.3f s (%.3f s "
      "of CPU), "
      "%.0f shuffles/s, %.3g network recounts/s (smallest search p-value %.4g)\n",
      combinations, reruns, rows, test.permutations, test.block, test.threads, seconds, cpu_seconds,
      test.permutations / seconds, static_cast<double>(predicted.size()) * test.permutations / seconds, smallest);
  return 0;
}
