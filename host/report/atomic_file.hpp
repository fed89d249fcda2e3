// Writes a file so that readers see either the old contents or the complete new ones, never a
// half-written file: write a temporary file beside it, flush it to disk, then rename.
#pragma once

#include <filesystem>
#include <string>

namespace hf {

void write_file_atomically(const std::filesystem::path& path, const std::string& contents);

}  // namespace hf
