// The blocked transpose against the definition, on odd and block-sized shapes.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/cpu/transpose.hpp"

namespace hf {
namespace {

TEST(Transpose, EveryElementLandsInPlace) {
  for (int rows : {1, 5, 7, 8, 13, 16, 60, 90})
    for (int cols : {1, 3, 8, 11, 15, 30, 64}) {
      std::vector<float> in(static_cast<std::size_t>(rows) * cols), out(in.size(), -1.0f);
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i);
      transpose(in.data(), rows, cols, out.data());
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
          ASSERT_EQ(out[c * rows + r], in[r * cols + c]) << rows << "x" << cols << " at " << r << "," << c;
    }
}

}  // namespace
}  // namespace hf
