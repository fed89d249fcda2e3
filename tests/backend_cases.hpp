// The backends a parameterised test runs on: every backend this build registers, named for the
// test's name; an accelerator without a device reports its cases as skipped (or failed, with
// HYPERFUSE_REQUIRE_GPU=1: tests/gpu_available.hpp).
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "kernels/backend_registry.hpp"

namespace hf::testing {

struct BackendCase {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
  bool needs_gpu = false;
};

inline void PrintTo(const BackendCase& c, std::ostream* os) { *os << c.name; }

inline std::vector<BackendCase> backends() {
  std::vector<BackendCase> list;
  for (const BackendEntry& entry : registered_backends())
    list.push_back({entry.name, [&entry] { return entry.make(0); }, entry.accelerator});
  return list;
}

}  // namespace hf::testing
