// Where successive halving keeps each training's latest full state between rungs: one file per
// training and rung in a folder beside the study journal (`training_states/`), written before
// the journal commits the row of that rung, so a row always has its state and a run killed at
// any moment resumes from states and rows that agree. Files, not journal rows: a state is some
// 180 KB for the seed's network, thousands are written per search and all are dropped when it
// completes, which in SQLite cost page chains, a write-ahead log twice their size and a vacuum.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "host/training/training_state.hpp"

namespace hf {

inline constexpr const char* kTrainingStatesFolder = "training_states";

class TrainingStateStore {
 public:
  // The folder in `study_dir`; created on the first write.
  explicit TrainingStateStore(const std::filesystem::path& study_dir);

  const std::filesystem::path& folder() const { return folder_; }

  // A training's state after `epochs` epochs under its final name (a temporary file renamed).
  // sync() makes every state written so far durable, names and contents, once per batch of
  // writes: until then a crash may leave a state file empty or short, whose row the journal has
  // not committed yet (a resume trains that rung again and writes it anew).
  void write(std::uint64_t combination, int rerun, int epochs, const std::string& state_bytes);
  void sync();
  // InputError when the file is missing or damaged.
  TrainingState read(std::uint64_t combination, int rerun, int epochs) const;
  // Deletes one state, if it is there: superseded by a later rung's, or of a training that stops.
  void remove(std::uint64_t combination, int rerun, int epochs);
  // Deletes the folder and everything in it.
  void remove_all();

 private:
  std::filesystem::path path(std::uint64_t combination, int rerun, int epochs) const;
  std::filesystem::path folder_;
};

}  // namespace hf
