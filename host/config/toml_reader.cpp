#include "host/config/toml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "host/common/errors.hpp"
#include "host/common/number_format.hpp"
#include "host/common/suggest.hpp"

namespace hf {
namespace {

// What to do about a TOML++ parse error, from its description.
std::string syntax_hint(std::string_view description) {
  const auto says = [&](const char* text) { return description.find(text) != std::string_view::npos; };
  if (says("redefine")) return "a key or table may appear only once in a file: remove the second one or merge the two";
  if (says("utf-8")) return "save the config as UTF-8 text";
  if (says("end-of-file"))
    return "a list, string or inline table is not closed: check the brackets and quotes before this point";
  return "write key = value, with strings in double quotes and lists in [ ] (docs/CONFIG.md has examples)";
}

enum class Want { Bool, Integer, Number };

// "; write it without quotes" when a string holds exactly the value that was wanted ("3" for 3).
std::string without_quotes(const toml::node& node, Want want) {
  if (!node.is_string()) return "";
  const std::string& text = node.as_string()->get();
  const char* end = text.data() + text.size();
  bool fits = false;
  if (want == Want::Bool) {
    fits = text == "true" || text == "false";
  } else if (want == Want::Integer) {
    long long integer = 0;
    const auto parsed = std::from_chars(text.data(), end, integer);
    fits = !text.empty() && parsed.ec == std::errc() && parsed.ptr == end;
  } else {
    double number = 0.0;
    const auto parsed = std::from_chars(text.data(), end, number);
    fits = !text.empty() && parsed.ec == std::errc() && parsed.ptr == end && std::isfinite(number);
  }
  return fits ? "; write it without quotes: " + text : "";
}

}  // namespace

std::string describe_type(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "a list";
    case toml::node_type::string: return "the string \"" + node.as_string()->get() + "\"";
    case toml::node_type::integer: return "the integer " + std::to_string(node.as_integer()->get());
    case toml::node_type::floating_point: return "the number " + python_float_repr(node.as_floating_point()->get());
    case toml::node_type::boolean: return node.as_boolean()->get() ? "true" : "false";
    default: return "a date or time";
  }
}

// A number node's value. Not node.value<double>(): TOML++ refuses (returns nothing for) an
// integer that a double cannot hold exactly, such as 5555555555555550001, where a rounded
// value is what range checks need.
double number_value(const toml::node& node) {
  return node.is_integer() ? static_cast<double>(node.as_integer()->get()) : node.as_floating_point()->get();
}

std::vector<std::pair<const toml::key*, const toml::node*>> entries_in_file_order(const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, node] : table) entries.emplace_back(&key, &node);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  return entries;
}

toml::table TomlReader::parse(std::string_view text) const {
  try {
    return toml::parse(text, path_.string());
  } catch (const toml::parse_error& e) {
    fail(e.source(), "TOML syntax error: " + std::string(e.description()) + "; " + syntax_hint(e.description()));
  }
}

void TomlReader::fail(const toml::source_region& where, const std::string& message) const {
  throw InputError(located(path_.string(), static_cast<long long>(where.begin.line),
                           static_cast<long long>(where.begin.column), message));
}

// Every key of `table` must be one of `allowed`.
void TomlReader::check_keys(const toml::table& table, const std::string& context,
                            const std::vector<std::string>& allowed) const {
  for (const auto& [key, node] : entries_in_file_order(table)) {
    const std::string name(key->str());
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    std::string message = context + ": unknown key '" + name + "'";
    const std::string guess = closest_choice(name, allowed);
    if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
    fail(key->source(), message + "; valid keys are: " + join_choices(allowed));
  }
}

const toml::table* TomlReader::subtable(const toml::table& root, const std::string& name) const {
  const toml::node* node = root.get(name);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) {
    fail(node->source(), "'" + name + "' must be a table, written [" + name + "] on a line of its own, but it is " +
                             describe_type(*node));
  }
  return node->as_table();
}

bool TomlReader::read_bool(const toml::table& table, const std::string& context, const char* key, bool fallback) const {
  const toml::node* node = table.get(key);
  if (node == nullptr) return fallback;
  if (!node->is_boolean())
    fail(node->source(), context + " " + key + ": must be true or false, not " + describe_type(*node) +
                             without_quotes(*node, Want::Bool));
  return node->as_boolean()->get();
}

long long TomlReader::read_integer(const toml::table& table, const std::string& context, const char* key,
                                   long long fallback, long long lowest, long long highest) const {
  const toml::node* node = table.get(key);
  if (node == nullptr) return fallback;
  if (!node->is_integer())
    fail(node->source(), context + " " + key + ": must be a whole number, not " + describe_type(*node) +
                             without_quotes(*node, Want::Integer));
  const long long value = node->as_integer()->get();
  if (value < lowest || value > highest) {
    fail(node->source(), context + " " + key + ": " + std::to_string(value) + " is out of range; use a value from " +
                             std::to_string(lowest) + " to " + std::to_string(highest));
  }
  return value;
}

double TomlReader::read_number(const toml::table& table, const std::string& context, const char* key,
                               double fallback) const {
  const toml::node* node = table.get(key);
  if (node == nullptr) return fallback;
  if (!node->is_number())
    fail(node->source(),
         context + " " + key + ": must be a number, not " + describe_type(*node) + without_quotes(*node, Want::Number));
  return number_value(*node);
}

std::string TomlReader::read_string(const toml::table& table, const std::string& context, const char* key,
                                    const std::string& fallback) const {
  const toml::node* node = table.get(key);
  if (node == nullptr) return fallback;
  if (!node->is_string())
    fail(node->source(), context + " " + key + ": must be a quoted string, not " + describe_type(*node));
  return node->as_string()->get();
}

// A path relative to the config file's folder, as the config file documents.
std::filesystem::path TomlReader::read_path(const toml::table* table, const std::string& context, const char* key,
                                            const std::string& fallback) const {
  const std::string text = table ? read_string(*table, context, key, fallback) : fallback;
  if (text.empty()) {
    fail(table && table->get(key) ? table->get(key)->source() : toml::source_region{},
         context + " " + key + ": must not be empty; give a file or folder path");
  }
  std::filesystem::path p(text);
  if (p.is_relative()) p = path_.parent_path() / p;
  return p.lexically_normal();
}

std::string number_text(const toml::node& node) {
  return node.is_integer() ? python_int_repr(node.as_integer()->get())
                           : python_float_repr(node.as_floating_point()->get());
}

double TomlReader::read_finite_number(const std::string& context, const toml::node& element) const {
  if (!element.is_number())
    fail(element.source(), context + ": each value must be a number, not " + describe_type(element) +
                               without_quotes(element, Want::Number));
  const double value = number_value(element);
  if (!std::isfinite(value)) fail(element.source(), context + ": " + number_text(element) + " is not a finite number");
  return value;
}

int TomlReader::read_name(const std::string& context, const toml::node& element, const char* const* names,
                          int count) const {
  const std::vector<std::string> choices(names, names + count);
  if (!element.is_string()) {
    fail(element.source(), context + ": each value must be a quoted name, not " + describe_type(element) +
                               "; valid names are: " + join_choices(choices));
  }
  const std::string name = element.as_string()->get();
  for (int i = 0; i < count; ++i) {
    if (name == names[i]) return i;
  }
  std::string message = context + ": unknown name \"" + name + "\"";
  const std::string guess = closest_choice(name, choices);
  if (!guess.empty()) message += " (did you mean \"" + guess + "\"?)";
  fail(element.source(), message + "; valid names are: " + join_choices(choices));
}

long long TomlReader::read_whole_number(const std::string& context, const toml::node& element) const {
  if (!element.is_integer())
    fail(element.source(), context + ": each value must be a whole number, not " + describe_type(element) +
                               without_quotes(element, Want::Integer));
  return element.as_integer()->get();
}

}  // namespace hf
