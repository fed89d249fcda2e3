// "Did you mean ...?" for misspelt names in configs and on the command line.
#pragma once

#include <string>
#include <vector>

namespace hf {

// The choice closest to `given` (case-insensitive edit distance), or "" when none is close.
std::string closest_choice(const std::string& given, const std::vector<std::string>& choices);

// "a, b, c": choices for an error message.
std::string join_choices(const std::vector<std::string>& choices);

}  // namespace hf
