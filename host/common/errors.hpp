// Exception types. Library code throws; main() turns them into a message and an exit code:
// InputError (bad usage, config or data: the user must change something) exits 2, anything
// else exits 1.
#pragma once

#include <stdexcept>
#include <string>

namespace hf {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "file:line:column: what: how to fix it", the form compilers use, so editors can jump there.
inline std::string located(const std::string& file, long long line, long long column, const std::string& message) {
  std::string where = file;
  if (line > 0) where += ":" + std::to_string(line);
  if (column > 0) where += ":" + std::to_string(column);
  return where + ": " + message;
}

}  // namespace hf
