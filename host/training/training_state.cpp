#include "host/training/training_state.hpp"

#include <cstring>
#include <stdexcept>

namespace hf {
namespace {

// "HFS1": a format tag, so bytes of anything else are refused rather than misread.
constexpr std::uint32_t kFormat = 0x31534648u;

template <typename T>
void put(std::string& bytes, const T& value) {
  bytes.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
void put_values(std::string& bytes, const std::vector<T>& values) {
  put<std::uint64_t>(bytes, values.size());
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    T value;
    take(&value, sizeof(T));
    return value;
  }
  template <typename T>
  std::vector<T> get_values() {
    const auto count = get<std::uint64_t>();
    if (count > (bytes_.size() - position_) / sizeof(T)) throw std::runtime_error("training state: truncated");
    std::vector<T> values(count);
    take(values.data(), count * sizeof(T));
    return values;
  }
  bool at_end() const { return position_ == bytes_.size(); }

 private:
  void take(void* out, std::size_t size) {
    if (size > bytes_.size() - position_) throw std::runtime_error("training state: truncated");
    if (size > 0) std::memcpy(out, bytes_.data() + position_, size);
    position_ += size;
  }
  const std::string& bytes_;
  std::size_t position_ = 0;
};

}  // namespace

std::string training_state_bytes(const TrainingState& state) {
  std::string bytes;
  put(bytes, kFormat);
  put<std::int32_t>(bytes, state.epochs);
  put<std::uint64_t>(bytes, state.steps);
  put_values(bytes, state.parameters);
  put_values(bytes, state.first_state);
  put_values(bytes, state.second_state);
  put_values(bytes, state.epoch_losses);
  return bytes;
}

TrainingState training_state_from_bytes(const std::string& bytes) {
  Reader reader(bytes);
  if (reader.get<std::uint32_t>() != kFormat) throw std::runtime_error("training state: not a training state");
  TrainingState state;
  state.epochs = reader.get<std::int32_t>();
  state.steps = reader.get<std::uint64_t>();
  state.parameters = reader.get_values<float>();
  state.first_state = reader.get_values<float>();
  state.second_state = reader.get_values<float>();
  state.epoch_losses = reader.get_values<double>();
  if (!reader.at_end() || state.first_state.size() != state.parameters.size() ||
      state.second_state.size() != state.parameters.size() ||
      state.epoch_losses.size() != static_cast<std::size_t>(state.epochs)) {
    throw std::runtime_error("training state: inconsistent sizes");
  }
  return state;
}

}  // namespace hf
