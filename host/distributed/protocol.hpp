// The messages of a search across MPI ranks. Rank 0 (the coordinator) plans the search, hands
// out packs on request and collects their results; every other rank (a worker) prepares the
// same plan from the same config and data, trains the packs it is handed and sends back each
// network's confusion counts (ranking and test rows), its predicted positives on the ranking
// rows and its time.
//
//   worker -> 0   Hello      ready (or why not), the identity of its plan, its worker threads
//   worker -> 0   Request    n more packs, please (it keeps one per worker thread in hand)
//   worker -> 0   Result     one pack's results (with the trained networks' parameters)
//   worker -> 0   Heartbeat  still alive (every second, from a thread that never trains)
//   worker -> 0   Failure    a runtime error it cannot recover from (the search stops)
//   0 -> worker   Assign     pack indices to train
//   0 -> worker   AssignPacks  whole packs with their members' start states (successive
//                            halving's later rungs, which only rank 0 plans)
//   0 -> worker   Stop       exit: the search is over, or has failed (one byte: 1 when a rank
//                            was lost, so MPI is not finalised)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/scoring/training_result.hpp"
#include "host/search/search_plan.hpp"

namespace hf {

inline constexpr int kTagHello = 1;
inline constexpr int kTagRequest = 2;
inline constexpr int kTagResult = 3;
inline constexpr int kTagHeartbeat = 4;
inline constexpr int kTagAssign = 5;
inline constexpr int kTagStop = 6;
inline constexpr int kTagFailure = 7;
inline constexpr int kTagAssignPacks = 8;

struct WorkerHello {
  std::string error;  // empty when the worker is ready
  int error_exit_status = 0;
  std::string study_hash;    // of the config and data it read
  std::string drawn_values;  // drawn_values_hash of its plan
  std::uint64_t packs = 0;
  int threads = 0;
  std::string host;
  std::string backend;
};

// A hash of the values a plan drew from the config's ranges (empty text without ranges): ranks
// draw them alike only with the same math library, which the study hash cannot show.
std::string drawn_values_hash(const SearchPlan& plan);

std::vector<char> encode_hello(const WorkerHello& hello);
WorkerHello decode_hello(const std::vector<char>& bytes);

std::vector<char> encode_count(std::uint64_t count);
std::uint64_t decode_count(const std::vector<char>& bytes);

std::vector<char> encode_pack_indices(const std::vector<std::size_t>& packs);
std::vector<std::size_t> decode_pack_indices(const std::vector<char>& bytes);

// A pack rank 0 planned for a rung of successive halving, sent whole: only rank 0 knows which
// candidates go on, and holds their training states.
struct PackOrder {
  std::size_t pack = 0;        // its index among the rung's packs
  std::size_t pack_count = 0;  // the rung's packs, for messages
  PlannedPack planned;         // without its trainings, which only rank 0 needs
  std::vector<TrainingState> start;
};

std::vector<char> encode_pack_orders(const std::vector<PackOrder>& orders);
std::vector<PackOrder> decode_pack_orders(const std::vector<char>& bytes);

// A trained pack: its index and each member's outcome with its epoch losses and, when the
// search keeps models, its final parameters, and with halving its training state (scores are
// recomputed on rank 0).
struct PackResults {
  std::size_t pack = 0;
  std::vector<TrainingResult> members;
};

std::vector<char> encode_pack_results(const PackResults& results);
PackResults decode_pack_results(const std::vector<char>& bytes);

}  // namespace hf
