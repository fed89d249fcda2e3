// Where the tests find the repository, the hyperfuse binary and a scratch folder.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace hf::testing {

// The build's paths, unless the environment moves them (HYPERFUSE_TEST_SOURCE_DIR,
// HYPERFUSE_TEST_BINARY): bench/device_check.sh runs a test binary built elsewhere.
inline std::filesystem::path path_from_environment(const char* variable, const char* built_in) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? value : built_in;
}
inline std::filesystem::path source_dir() {
  return path_from_environment("HYPERFUSE_TEST_SOURCE_DIR", HYPERFUSE_SOURCE_DIR);
}
inline std::filesystem::path hyperfuse_binary() {
  return path_from_environment("HYPERFUSE_TEST_BINARY", HYPERFUSE_BINARY);
}

// A fresh, empty folder for one test, removed and recreated on each call.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
  for (char& c : test)
    if (c == '/') c = '_';
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "hyperfuse-tests" / test / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// `text` as one word for /bin/sh.
inline std::string shell_quoted(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

}  // namespace hf::testing
