// The emulated cards (HYPERFUSE_EMU_PROFILE's profiles) and built architectures a test needs,
// set for its scope and put back afterwards, with the devices reconfigured both times.
#pragma once

#include <string>
#include <vector>

#include "tests/cuda_emulation/emulation_control.hpp"

namespace hf::testing {

class EmulatedCards {
 public:
  // One device per profile; `built` empty keeps the built architectures as they are.
  explicit EmulatedCards(const std::vector<std::string>& profiles, const std::string& built = "")
      : profiles_(hf_emu::device_profiles()),
        built_(hf_emu::built_architectures()),
        memory_(hf_emu::configured_device_memory()) {
    hf_emu::set_device_profiles(profiles);
    if (!built.empty()) hf_emu::set_built_architectures(built);
    hf_emu::configure_devices(static_cast<int>(profiles.size()));
  }
  ~EmulatedCards() {
    hf_emu::set_device_profiles(profiles_);
    hf_emu::set_built_architectures(built_);
    hf_emu::configure_devices(static_cast<int>(memory_.size()), memory_);
  }
  EmulatedCards(const EmulatedCards&) = delete;
  EmulatedCards& operator=(const EmulatedCards&) = delete;

 private:
  std::vector<std::string> profiles_;
  std::string built_;
  std::vector<std::size_t> memory_;
};

}  // namespace hf::testing
