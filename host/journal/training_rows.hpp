// The `trainings` table of a study journal read back whole, each row as column name -> text,
// read only: for readers that pick columns by name (the report), so a column added to the
// table later reaches them without a change here.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace hf {

using TrainingRow = std::map<std::string, std::string>;  // a NULL cell is absent

// Throws InputError when `journal` cannot be opened as a study journal.
std::vector<TrainingRow> read_training_rows(const std::filesystem::path& journal);

}  // namespace hf
