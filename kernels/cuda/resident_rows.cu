#include "kernels/cuda/resident_rows.hpp"

#include <cstring>
#include <utility>

namespace hf {
namespace {

// A 64-bit hash of the shape and every byte of the rows and labels (a multiply-xorshift over
// 8-byte words): two data sets that differ anywhere get different copies.
std::uint64_t content_hash(const RowsView& view) {
  std::uint64_t h =
      0x9E3779B97F4A7C15ull ^ (static_cast<std::uint64_t>(view.rows) << 32) ^ static_cast<std::uint64_t>(view.features);
  const auto mix = [&h](const void* data, std::size_t bytes) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; i += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p + i, bytes - i < 8 ? bytes - i : 8);
      h = (h ^ word) * 0xBF58476D1CE4E5B9ull;
      h ^= h >> 31;
    }
  };
  mix(view.x, static_cast<std::size_t>(view.rows) * view.features * sizeof(float));
  mix(view.y, static_cast<std::size_t>(view.rows) * sizeof(float));
  return h;
}

template <typename T>
T* at_least(DeviceBuffer<T>& buffer, std::size_t count) {
  if (buffer.size() < count) {
    buffer = DeviceBuffer<T>();  // free first: the old contents are not needed
    buffer = DeviceBuffer<T>(count);
  }
  return buffer.data();
}

}  // namespace

FusedRows ResidentRows::rows(const RowsView& view, cudaStream_t stream) {
  const std::uint64_t hash = content_hash(view);
  std::size_t found = entries_.size();
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (e.hash == hash && e.rows == view.rows && e.features == view.features) found = i;
  }
  if (found == entries_.size()) {
    if (entries_.size() == kMaxEntries) entries_.erase(entries_.begin());
    Entry e;
    e.hash = hash;
    e.rows = view.rows;
    e.features = view.features;
    e.x = DeviceBuffer<float>(static_cast<std::size_t>(view.rows) * view.features);
    e.y = DeviceBuffer<float>(static_cast<std::size_t>(view.rows));
    e.x.upload(view.x, e.x.size(), stream);
    e.y.upload(view.y, e.y.size(), stream);
    entries_.push_back(std::move(e));
    found = entries_.size() - 1;
  } else if (found + 1 != entries_.size()) {
    Entry e = std::move(entries_[found]);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(found));
    entries_.push_back(std::move(e));
    found = entries_.size() - 1;
  }
  const Entry& e = entries_[found];
  FusedRows rows;
  rows.rows = e.rows;
  rows.features = e.features;
  rows.x = e.x.data();
  rows.y = e.y.data();
  return rows;
}

int* ResidentRows::orders(std::size_t count) { return at_least(orders_, count); }

unsigned* ResidentRows::positives(std::size_t count) { return at_least(positives_, count); }

std::size_t ResidentRows::bytes() const {
  std::size_t total = orders_.bytes() + positives_.bytes();
  for (const Entry& e : entries_) total += e.x.bytes() + e.y.bytes();
  return total;
}

}  // namespace hf
