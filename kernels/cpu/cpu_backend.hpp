// The CPU implementation of the pack primitives: the reference every other backend is tested
// against. Each network of a pack is computed on its own (per-network GEMMs, per-network
// element loops), so a network's numbers never depend on which pack it is in. One worker
// thread runs one pack at a time.
#pragma once

#include <string>

#include "kernels/backend/backend.hpp"

namespace hf {

// What the CPU backend is built with, for --version: its GEMM library.
std::string cpu_backend_description();

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  std::unique_ptr<PackWorkspace> create_workspace(const PackSpec& spec, int max_rows) override;
};

}  // namespace hf
