// Writes a file so that readers see either the old contents or the complete new ones, never a
// half-written file: write a temporary file beside it, flush it to disk, then rename.
#pragma once

#include <filesystem>
#include <string>

namespace hf {

void write_file_atomically(const std::filesystem::path& path, const std::string& contents);

// Throws InputError when `path` cannot become a file: its folder is missing or not a folder, or
// it names a folder. `option` is how the user gave the path (e.g. "--out"), for the message.
// Checked before any work, so a mistyped path fails at once and nothing is written.
void require_file_destination(const std::filesystem::path& path, const std::string& option);

}  // namespace hf
