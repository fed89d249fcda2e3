#include "kernels/backend/parameter_layout.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hf {

std::vector<int> layer_widths(int inputs, const std::vector<double>& hidden_multiples) {
  std::vector<int> widths{inputs};
  for (double h : hidden_multiples) {
    // nearbyint rounds half to even in the default rounding mode, like Python's round().
    const double width = std::nearbyint(static_cast<double>(inputs) * h);
    widths.push_back(static_cast<int>(std::max(width, 1.0)));
  }
  widths.push_back(1);
  return widths;
}

ParameterLayout::ParameterLayout(std::vector<int> w) : widths(std::move(w)) {
  if (widths.size() < 2) throw std::invalid_argument("a network needs an input and an output width");
  std::size_t offset = 0;
  for (int l = 0; l < layers(); ++l) {
    weight_offset.push_back(offset);
    offset += weight_count(l);
    bias_offset.push_back(offset);
    offset += static_cast<std::size_t>(out(l));
  }
  prelu_offset = offset;
  used = offset + 1;
  size = (used + 15) / 16 * 16;
}

std::size_t ParameterLayout::forward_macs_per_row() const {
  std::size_t macs = 0;
  for (int l = 0; l < layers(); ++l) macs += weight_count(l);
  return macs;
}

}  // namespace hf
