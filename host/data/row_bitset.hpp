// A set of rows of one data set, one bit per row: a network's predicted positives, or the rows
// labelled 1. Counting the rows two sets share is a popcount over 64-bit words, which is what
// makes recounting every network's confusion counts under a thousand label permutations cheap.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hf {

class RowBitset {
 public:
  RowBitset() = default;
  explicit RowBitset(int rows) : rows_(rows), words_((static_cast<std::size_t>(rows) + 63) / 64, 0) {}

  int rows() const { return rows_; }
  bool empty() const { return rows_ == 0; }

  void set(int row) { words_[static_cast<std::size_t>(row) / 64] |= std::uint64_t{1} << (row % 64); }
  bool test(int row) const { return (words_[static_cast<std::size_t>(row) / 64] >> (row % 64)) & 1u; }

  // Rows in the set.
  std::int64_t count() const;
  // Rows in both sets (the sets must have the same row count).
  std::int64_t count_common(const RowBitset& other) const;

  const std::vector<std::uint64_t>& words() const { return words_; }
  std::vector<std::uint64_t>& words() { return words_; }

  // The bits as bytes: bit r % 8 of byte r / 8 is row r (numpy.unpackbits(..., bitorder="little")
  // reads them back), the same on every machine.
  std::string to_bytes() const;
  // Throws std::runtime_error when `bytes` does not hold exactly `rows` rows.
  static RowBitset from_bytes(int rows, const std::string& bytes);

  bool operator==(const RowBitset& other) const { return rows_ == other.rows_ && words_ == other.words_; }
  bool operator!=(const RowBitset& other) const { return !(*this == other); }

 private:
  int rows_ = 0;
  std::vector<std::uint64_t> words_;  // bits past rows_ are 0
};

// The rows whose label is 1.
RowBitset positive_rows(const std::vector<float>& labels);

}  // namespace hf
