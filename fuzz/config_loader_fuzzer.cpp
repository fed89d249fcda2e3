// libFuzzer target for the config loader: any text must either load or be refused with an
// InputError; another exception, a crash, a hang or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "host/common/errors.hpp"
#include "host/config/search_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const hf::SearchConfig config = hf::parse_search_config(text, "/fuzz/search.toml");
    // A config that loads must be one a search can plan: every axis has values.
    for (const hf::HyperparameterAxis& axis : config.search.axes) {
      if (axis.values.empty()) __builtin_trap();
    }
  } catch (const hf::InputError&) {
    // Refused with a message: the expected outcome for a bad config.
  }
  return 0;
}
