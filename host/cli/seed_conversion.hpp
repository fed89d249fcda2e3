// `hyperfuse convert CONFIG.py`: the seed script's config.py as a TOML config. The reading is
// the Python package's (python/hyperfuse/seed_config.py, run with python3 as
// `python3 -m hyperfuse.convert`), so the CLI and hyperfuse.read_seed_config cannot disagree.
#pragma once

#include "host/cli/command_line.hpp"

namespace hf {

// The converter's exit status (0, or 2 with its located message on stderr). Throws InputError
// when python3 or the package cannot be found.
int convert_seed_config(const ConvertArguments& args);

}  // namespace hf
