// The data sets a CUDA backend trains and evaluates on, copied to its device once and found
// again by their contents (a hash of the rows, labels and shape), so every pack a worker trains
// reads the same copy; and the data-sized scratch the fused kernels share across those packs
// (the epochs' shuffled orders, the predicted-positive bits). None of it is part of a pack's
// workspace: it scales with the data, not with the pack, and lives as long as the backend.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/backend/backend.hpp"
#include "kernels/cuda/device_buffer.hpp"
#include "kernels/cuda/fused_view.hpp"

namespace hf {

class ResidentRows {
 public:
  // The rows on the device (order null), uploaded on `stream` the first time they are seen.
  FusedRows rows(const RowsView& view, cudaStream_t stream);
  // At least `count` ints / words of scratch; the contents of earlier calls are not kept when
  // it grows (work already queued on the backend's one stream finishes first).
  int* orders(std::size_t count);
  unsigned* positives(std::size_t count);
  // Device bytes held now.
  std::size_t bytes() const;

 private:
  struct Entry {
    std::uint64_t hash = 0;
    int rows = 0, features = 0;
    DeviceBuffer<float> x, y;
  };
  static constexpr std::size_t kMaxEntries = 4;  // training, validation and test sets, and one more
  std::vector<Entry> entries_;                   // most recently used last
  DeviceBuffer<int> orders_;
  DeviceBuffer<unsigned> positives_;
};

}  // namespace hf
