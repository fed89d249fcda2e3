// The host had no memory left for an allocation the training needed: the message says what
// was being allocated and how much, so the user sees more than std::bad_alloc.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace hf {

class OutOfHostMemory : public std::runtime_error {
 public:
  OutOfHostMemory(const std::string& message, std::size_t bytes) : std::runtime_error(message), bytes_(bytes) {}
  // The size of the allocation that failed.
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t bytes_;
};

}  // namespace hf
