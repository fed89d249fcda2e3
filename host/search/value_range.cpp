#include "host/search/value_range.hpp"

#include <algorithm>
#include <cmath>

#include "host/common/number_format.hpp"

namespace hf {

std::string HyperparameterRange::text() const {
  const auto bound = [&](double value) {
    return kind == RangeKind::IntUniform ? python_int_repr(static_cast<long long>(value)) : python_float_repr(value);
  };
  return std::string("{ ") + range_kind_name(kind) + " = [" + bound(low) + ", " + bound(high) + "] }";
}

double HyperparameterRange::value_at(double u) const {
  switch (kind) {
    case RangeKind::Uniform: return std::min(high, low + (high - low) * u);
    case RangeKind::LogUniform: {
      // exp(log) may round a hair outside the bounds: clamp, so a drawn value always passes the
      // descriptor's range check as the bounds did.
      const double value = std::exp(std::log(low) + (std::log(high) - std::log(low)) * u);
      return std::clamp(value, low, high);
    }
    case RangeKind::IntUniform: {
      const double count = high - low + 1.0;
      return std::min(high, low + std::floor(count * u));
    }
  }
  return low;
}

}  // namespace hf
