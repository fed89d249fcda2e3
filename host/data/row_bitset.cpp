#include "host/data/row_bitset.hpp"

#include <stdexcept>

namespace hf {

std::int64_t RowBitset::count() const {
  std::int64_t n = 0;
  for (std::uint64_t w : words_) n += __builtin_popcountll(w);
  return n;
}

std::int64_t RowBitset::count_common(const RowBitset& other) const {
  if (other.rows_ != rows_) throw std::logic_error("RowBitset::count_common: sets of different row counts");
  std::int64_t n = 0;
  for (std::size_t i = 0; i < words_.size(); ++i) n += __builtin_popcountll(words_[i] & other.words_[i]);
  return n;
}

std::string RowBitset::to_bytes() const {
  std::string bytes((static_cast<std::size_t>(rows_) + 7) / 8, '\0');
  for (std::size_t b = 0; b < bytes.size(); ++b) bytes[b] = static_cast<char>((words_[b / 8] >> (8 * (b % 8))) & 0xFF);
  return bytes;
}

RowBitset RowBitset::from_bytes(int rows, const std::string& bytes) {
  if (rows < 0 || bytes.size() != (static_cast<std::size_t>(rows) + 7) / 8) {
    throw std::runtime_error("stored predictions hold " + std::to_string(bytes.size()) + " bytes, but " +
                             std::to_string(rows) + " rows need " + std::to_string((rows + 7) / 8));
  }
  RowBitset set(rows);
  for (std::size_t b = 0; b < bytes.size(); ++b) {
    set.words_[b / 8] |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[b])) << (8 * (b % 8));
  }
  // Bits past the last row would be counted as rows that do not exist.
  if (rows % 64 != 0 && !set.words_.empty() && (set.words_.back() >> (rows % 64)) != 0) {
    throw std::runtime_error("stored predictions set bits past the last of their " + std::to_string(rows) + " rows");
  }
  return set;
}

RowBitset positive_rows(const std::vector<float>& labels) {
  RowBitset set(static_cast<int>(labels.size()));
  for (std::size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] > 0.5f) set.set(static_cast<int>(r));
  }
  return set;
}

}  // namespace hf
