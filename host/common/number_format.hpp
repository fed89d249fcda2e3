// Numbers written the way Python's repr() writes them (shortest round-trip digits, exponent
// below 1e-4 and from 1e16), so CSV cells read as they did in the seed script's output.
#pragma once

#include <string>

namespace hf {

std::string python_float_repr(double value);
std::string python_int_repr(long long value);

}  // namespace hf
