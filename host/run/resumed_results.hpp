// What an earlier run of a study committed to its journal, read back as results: the plan's
// training each row belongs to, and the row's result scored exactly as a run that never stopped
// scores it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <utility>

#include "host/journal/study_journal.hpp"
#include "host/scoring/training_result.hpp"
#include "host/search/search_plan.hpp"

namespace hf {

// The plan's trainings by (combination number, rerun).
using TrainingIndex = std::map<std::pair<std::uint64_t, int>, std::size_t>;
TrainingIndex index_trainings(const SearchPlan& plan);

// The plan's training a journal row belongs to; InputError when the plan has none with its seed
// (a journal of another hyperfuse version).
std::size_t training_of(const TrainingIndex& index, const SearchPlan& plan, const JournalEntry& entry,
                        const std::filesystem::path& journal);

// A journal row as a done result; its predictions cover `ranking_rows` rows. InputError when the
// journal is damaged.
TrainingResult journal_result(const JournalEntry& entry, int ranking_rows, const std::filesystem::path& journal);

}  // namespace hf
