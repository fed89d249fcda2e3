// What a planned search does on each chosen GPU, by that GPU's own limits: for each layout and
// batch size of the plan, what stays on chip and what goes to global scratch, networks per pack,
// workers and launches per epoch. --dry-run and `hyperfuse devices CONFIG` print it.
#pragma once

#include <string>
#include <vector>

#include "host/run/prepared_search.hpp"

namespace hf {

// "GPU 0 (NVIDIA L4, compute capability 8.9), 99.0 KiB shared memory per block:" and one line per
// layout and batch size after it ("  widths 30-60-1, batch 32: 256 networks a pack, 20.1 KiB on
// chip, nothing in global scratch, 1 launch an epoch"); empty on the CPU.
std::vector<std::string> gpu_plan_lines(const PreparedSearch& prepared);

}  // namespace hf
