// libFuzzer target for the labelled CSV loader and the scaler fitted on what it reads: any text
// must either load into a consistent table or be refused with an InputError; another exception,
// a crash, a hang or a sanitizer report is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "host/common/errors.hpp"
#include "host/data/labelled_table.hpp"
#include "host/data/standard_scaler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const hf::LabelledTable table = hf::parse_labelled_csv(text, "/fuzz/data.csv");
    const bool consistent = table.rows > 0 && table.features > 0 &&
                            table.values.size() == static_cast<std::size_t>(table.rows) * table.features &&
                            table.labels.size() == static_cast<std::size_t>(table.rows);
    if (!consistent) __builtin_trap();
    for (float label : table.labels) {
      if (label != 0.0f && label != 1.0f) __builtin_trap();
    }
    // What training sees: standardised features must be finite for any table the loader accepts.
    const hf::Dataset scaled = hf::StandardScaler::fit(table).transform(table);
    for (float x : scaled.x) {
      if (!std::isfinite(x)) __builtin_trap();
    }
  } catch (const hf::InputError&) {
    // Refused with a message: the expected outcome for bad data.
  }
  return 0;
}
