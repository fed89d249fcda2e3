// One prepared SQLite statement, owned: bind, step, read columns; and a journal opened for
// reading. Shared by the study journal's writer and the readers of a finished study (stored
// models, the report).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace hf {

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int i, const std::string& text) { sqlite3_bind_text(statement_, i, text.c_str(), -1, SQLITE_TRANSIENT); }
  void bind(int i, double value) { sqlite3_bind_double(statement_, i, value); }
  void bind(int i, std::int64_t value) { sqlite3_bind_int64(statement_, i, value); }
  void bind_null(int i) { sqlite3_bind_null(statement_, i); }
  // The values' bytes as they lie in memory (little-endian on every platform hyperfuse builds for).
  template <typename T>
  void bind_blob(int i, const std::vector<T>& values) {
    sqlite3_bind_blob(statement_, i, values.data(), static_cast<int>(values.size() * sizeof(T)), SQLITE_TRANSIENT);
  }

  void bind_blob(int i, const std::string& bytes) {
    sqlite3_bind_blob(statement_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }

  // True while there is a row to read.
  bool step() {
    const int status = sqlite3_step(statement_);
    if (status == SQLITE_ROW) return true;
    if (status != SQLITE_DONE) fail("step");
    return false;
  }
  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

  std::string text(int i) const {
    const unsigned char* t = sqlite3_column_text(statement_, i);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  std::int64_t integer(int i) const { return sqlite3_column_int64(statement_, i); }
  double real(int i) const { return sqlite3_column_double(statement_, i); }
  bool is_null(int i) const { return sqlite3_column_type(statement_, i) == SQLITE_NULL; }
  // A blob column's bytes.
  std::string bytes(int i) const {
    const void* data = sqlite3_column_blob(statement_, i);
    return data ? std::string(static_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(statement_, i)))
                : std::string();
  }
  int columns() const { return sqlite3_column_count(statement_); }
  std::string column_name(int i) const { return sqlite3_column_name(statement_, i); }
  // A blob column read back as values of T; a size that is not a whole number of values is an
  // error (a damaged journal).
  template <typename T>
  std::vector<T> blob(int i) const {
    const void* bytes = sqlite3_column_blob(statement_, i);
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement_, i));
    if (size % sizeof(T) != 0) throw std::runtime_error("study journal: a stored array has a partial value");
    std::vector<T> values(size / sizeof(T));
    if (size > 0) std::memcpy(values.data(), bytes, size);
    return values;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("study journal: ") + what + " failed: " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

// `path` opened for reading only (nullptr when it cannot be opened). Read-write when the folder
// allows, so that closing the last connection checkpoints the write-ahead log and removes its
// -wal and -shm files, which a read-only connection would leave beside the journal; nothing is
// written through it.
inline sqlite3* open_journal_for_reading(const std::filesystem::path& path) {
  for (const int flags : {SQLITE_OPEN_READWRITE, SQLITE_OPEN_READONLY}) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
      return db;
    }
    sqlite3_close(db);
  }
  return nullptr;
}

}  // namespace hf
