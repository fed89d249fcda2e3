// `hyperfuse run --dry-run`: the plan of a search and the memory it needs, as text for stdout,
// made without training and without touching the output folder or its journal.
#pragma once

#include <optional>
#include <string>

#include "host/config/search_config.hpp"
#include "host/run/machine_memory.hpp"
#include "host/run/memory_plan.hpp"
#include "host/run/prepared_search.hpp"

namespace hf {

// `fit` is empty when a combination cannot fit (the run would be refused).
std::string plan_report(const SearchConfig& config, const PreparedSearch& prepared, const MemoryEstimate& estimate,
                        const HostMemory& host, const std::optional<MemoryFit>& fit);

}  // namespace hf
