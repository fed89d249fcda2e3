// `hyperfuse devices [CONFIG]`: every visible GPU, whether this build can train on it, and with
// CONFIG what that search's plan does on each usable GPU.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace hf {

// The report's text. Loads CONFIG's data when given (the plan depends on it); trains nothing.
std::string devices_report(const std::optional<std::filesystem::path>& config);

}  // namespace hf
