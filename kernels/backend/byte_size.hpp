// Byte counts as people read them in messages and plans: "3.4 GiB", "512 KiB", "17 bytes"
// (binary units, as free -h and nvidia-smi count memory).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

namespace hf {

inline std::string byte_size(std::size_t bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  double value = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text,
                value < 10.0    ? "%.2f %s"
                : value < 100.0 ? "%.1f %s"
                                : "%.0f %s",
                value, units[unit]);
  return text;
}

}  // namespace hf
