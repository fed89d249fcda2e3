// The house plan, checked: every #include of the program's own code points down the folder order
// docs/ARCHITECTURE.md draws (or stays in its folder), so no folder includes one that includes it
// back. Folders on one level are siblings and must not include each other either.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "tests/test_paths.hpp"

namespace hf {
namespace {

namespace fs = std::filesystem;

// Top to bottom; docs/ARCHITECTURE.md lists the same order.
const std::map<std::string, int> kLevel = {
    {"host/cli", 1},      {"host/c_api", 1},    {"host/distributed", 2},  {"host/run", 3},
    {"host/predict", 3},  {"host/export", 3},   {"host/study_report", 3}, {"host/journal", 4},
    {"host/report", 4},   {"host/config", 5},   {"host/scoring", 5},      {"host/search", 6},
    {"host/training", 7}, {"host/data", 8},     {"host/common", 9},       {"kernels", 10},
    {"kernels/cpu", 11},  {"kernels/cuda", 11}, {"kernels/backend", 12},  {"kernels/math", 13},
};

TEST(Layering, EveryIncludePointsDownTheFolderOrder) {
  const fs::path root = testing::source_dir();
  const std::regex include("^#include \"([^\"]+)\"");
  int files = 0;
  for (const char* top : {"host", "kernels"}) {
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root / top)) {
      const std::string ext = entry.path().extension().string();
      if (ext != ".cpp" && ext != ".hpp" && ext != ".cu") continue;
      const std::string folder = fs::relative(entry.path().parent_path(), root).generic_string();
      const auto level = kLevel.find(folder);
      ASSERT_NE(level, kLevel.end()) << folder << " has no place in the folder order: add it here and to "
                                     << "docs/ARCHITECTURE.md";
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      while (std::getline(in, line)) {
        std::smatch match;
        if (!std::regex_search(line, match, include)) continue;
        const std::string target = fs::path(match[1].str()).parent_path().generic_string();
        if (target == folder || target == "tests") continue;
        const auto target_level = kLevel.find(target);
        if (target_level == kLevel.end()) continue;  // a system or third-party header
        EXPECT_GT(target_level->second, level->second)
            << fs::relative(entry.path(), root).generic_string() << " includes " << match[1]
            << ": a folder may only include folders below it";
      }
    }
  }
  EXPECT_GT(files, 50);
}

}  // namespace
}  // namespace hf
