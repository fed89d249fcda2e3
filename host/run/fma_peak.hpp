// The machine's single-precision FMA peak, measured: every thread runs independent vector
// FMA chains, so the figure is what the cores deliver at their current clock, not a datasheet.
#pragma once

namespace hf {

// GFLOP/s of `threads` threads running FMAs for about `seconds`.
double measured_fma_peak_gflops(int threads, double seconds);

}  // namespace hf
