// The CPU implementation of the pack primitives: the reference every other backend is tested
// against. Each network of a pack is computed on its own (per-network GEMMs, per-network
// element loops), so a network's numbers never depend on which pack it is in. One worker
// thread runs one pack at a time.
#pragma once

#include <string>

#include "kernels/backend/backend.hpp"
#include "kernels/backend/workspace_bytes.hpp"

namespace hf {

// What the CPU backend is built with, for --version: its GEMM library.
std::string cpu_backend_description();

// Host bytes a CPU workspace of this pack and `max_rows` rows allocates: the function its
// constructor allocates by. The memory plan counts one per worker thread.
WorkspaceBytes cpu_workspace_bytes(const PackSpec& pack, int max_rows);

// Host bytes the CPU backend keeps for the whole run, shared by its workspaces: the GEMM
// library's kernels for `layer_shapes` distinct (in, out, rows) layer shapes.
std::size_t cpu_library_bytes(std::size_t layer_shapes);

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }
  std::unique_ptr<PackWorkspace> create_workspace(const PackSpec& spec, int max_rows) override;
};

}  // namespace hf
