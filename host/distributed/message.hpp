// A flat byte message for MPI: numbers and strings written one after another and read back in
// the same order. Every rank runs the same binary, so native byte order is fine.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace hf {

class MessageWriter {
 public:
  template <typename T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* bytes = reinterpret_cast<const char*>(&value);
    bytes_.insert(bytes_.end(), bytes, bytes + sizeof(T));
  }
  void put_string(const std::string& text) {
    put<std::uint64_t>(text.size());
    bytes_.insert(bytes_.end(), text.begin(), text.end());
  }
  const std::vector<char>& bytes() const { return bytes_; }

 private:
  std::vector<char> bytes_;
};

class MessageReader {
 public:
  explicit MessageReader(const std::vector<char>& bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    take(&value, sizeof(T));
    return value;
  }
  std::string get_string() {
    const auto size = get<std::uint64_t>();
    if (size > bytes_.size() - position_) throw std::runtime_error("MPI message: truncated string");
    std::string text(bytes_.data() + position_, size);
    position_ += size;
    return text;
  }

 private:
  void take(void* out, std::size_t size) {
    if (size > bytes_.size() - position_) throw std::runtime_error("MPI message: truncated");
    std::memcpy(out, bytes_.data() + position_, size);
    position_ += size;
  }
  const std::vector<char>& bytes_;
  std::size_t position_ = 0;
};

}  // namespace hf
