// The generic half of config loading: TOML++ tables read key by key, every problem an InputError
// at the config's file:line:column that says what is wrong and how to fix it. The schema (which
// tables and keys a search config has) is config_loader.cpp's.
#pragma once

#include <toml++/toml.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hf {

// What a mistyped value was, for messages: "the string \"3\"", "a list", "the integer 4", ...
std::string describe_type(const toml::node& node);

// A number node's value; an integer that a double cannot hold exactly is rounded (TOML++'s
// value<double>() refuses those, where range checks need a value).
double number_value(const toml::node& node);

// A number as the config wrote it, in Python's notation (the CSV shows this).
std::string number_text(const toml::node& node);

// Table entries in the order the file lists them (toml::table itself is sorted by key).
std::vector<std::pair<const toml::key*, const toml::node*>> entries_in_file_order(const toml::table& table);

class TomlReader {
 public:
  explicit TomlReader(std::filesystem::path path) : path_(std::move(path)) {}

  // The whole file; a syntax error is reported with what to do about it.
  toml::table parse(std::string_view text) const;

  [[noreturn]] void fail(const toml::source_region& where, const std::string& message) const;

  // Every key of `table` must be one of `allowed`; an unknown one gets a "did you mean".
  void check_keys(const toml::table& table, const std::string& context, const std::vector<std::string>& allowed) const;

  // The table `name` of `root`, or null when absent; any other type is an error.
  const toml::table* subtable(const toml::table& root, const std::string& name) const;

  // Optional keys of `table`, `fallback` when absent; `context` names the table in messages.
  bool read_bool(const toml::table& table, const std::string& context, const char* key, bool fallback) const;
  long long read_integer(const toml::table& table, const std::string& context, const char* key, long long fallback,
                         long long lowest, long long highest) const;
  double read_number(const toml::table& table, const std::string& context, const char* key, double fallback) const;
  std::string read_string(const toml::table& table, const std::string& context, const char* key,
                          const std::string& fallback) const;
  // A path relative to the config file's folder, as the config file documents.
  std::filesystem::path read_path(const toml::table* table, const std::string& context, const char* key,
                                  const std::string& fallback) const;

  // Elements of a list: a finite number, a whole number, or one of `names` (its index).
  double read_finite_number(const std::string& context, const toml::node& element) const;
  long long read_whole_number(const std::string& context, const toml::node& element) const;
  int read_name(const std::string& context, const toml::node& element, const char* const* names, int count) const;

 private:
  std::filesystem::path path_;
};

}  // namespace hf
