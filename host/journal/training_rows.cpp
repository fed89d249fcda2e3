#include "host/journal/training_rows.hpp"

#include <sqlite3.h>

#include "host/common/errors.hpp"
#include "host/journal/sqlite_statement.hpp"

namespace hf {

std::vector<TrainingRow> read_training_rows(const std::filesystem::path& journal) {
  sqlite3* db = std::filesystem::exists(journal) ? open_journal_for_reading(journal) : nullptr;
  if (db == nullptr) {
    throw InputError(journal.string() + ": cannot open the study journal; give --study the output folder of a search");
  }
  std::vector<TrainingRow> rows;
  try {
    Statement select(db, "SELECT * FROM trainings ORDER BY combination, rerun");
    while (select.step()) {
      TrainingRow row;
      for (int c = 0; c < select.columns(); ++c) {
        if (!select.is_null(c)) row[select.column_name(c)] = select.text(c);
      }
      rows.push_back(std::move(row));
    }
  } catch (const std::runtime_error& e) {
    sqlite3_close(db);
    throw InputError(journal.string() + ": is not a readable study journal (" + e.what() + ")");
  }
  sqlite3_close(db);
  return rows;
}

}  // namespace hf
