#include "host/config/range_reader.hpp"

#include <vector>

#include "host/common/number_format.hpp"
#include "host/common/suggest.hpp"

namespace hf {
namespace {

std::vector<std::string> table_keys() {
  std::vector<std::string> keys(kRangeKindNames, kRangeKindNames + kRangeKindCount);
  keys.emplace_back(kChoiceKey);
  return keys;
}

// Why a hyperparameter cannot be drawn from a range of this kind, and what to write instead.
std::string kind_refusal(const HyperparameterDescriptor& d, RangeKind kind) {
  const std::string name = d.name;
  const std::string list = " (a random search draws from a list too)";
  switch (d.kind) {
    case ValueKind::Number:
      return std::string(range_kind_name(kind)) + " draws whole numbers, but " + name +
             " takes any number in its range; use " + ranges_accepted(d);
    case ValueKind::WholeNumber: return name + " takes whole numbers; use " + ranges_accepted(d);
    case ValueKind::LayerMultiples:
    case ValueKind::Name: break;
  }
  return name + " cannot be drawn from a range; list its values, e.g. " + name + " = [" + d.example + "]" + list;
}

std::string bound_text(const toml::node& bound) { return number_text(bound); }

}  // namespace

std::string ranges_accepted(const HyperparameterDescriptor& d) {
  std::string text;
  for (int k = 0; k < kRangeKindCount; ++k) {
    if (!d.accepts(static_cast<RangeKind>(k))) continue;
    text += (text.empty() ? "" : " or ") + std::string("{ ") + kRangeKindNames[k] + " = [a, b] }";
  }
  return text;
}

HyperparameterRange read_range(const TomlReader& reader, const HyperparameterDescriptor& d, const std::string& context,
                               const toml::key& kind_key, const toml::node& bounds) {
  const std::string kind_name(kind_key.str());
  HyperparameterRange range;
  bool known = false;
  for (int k = 0; k < kRangeKindCount; ++k) {
    if (kind_name == kRangeKindNames[k]) {
      range.kind = static_cast<RangeKind>(k);
      known = true;
    }
  }
  if (!known) {
    std::string message = context + ": unknown range '" + kind_name + "'";
    const std::string guess = closest_choice(kind_name, table_keys());
    if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
    const std::string ranges = ranges_accepted(d);
    reader.fail(kind_key.source(), message + "; a range is one of: " + join_choices(table_keys()) + "; " + d.name +
                                       " takes " + (ranges.empty() ? "" : ranges + " or ") + "{ choice = [...] }");
  }
  if (!d.accepts(range.kind)) reader.fail(kind_key.source(), context + ": " + kind_refusal(d, range.kind));

  const std::string example = std::string(d.name) + " = { " + kind_name + " = [a, b] } with a below b";
  const toml::array* pair = bounds.as_array();
  if (pair == nullptr || pair->size() != 2) {
    reader.fail(bounds.source(), context + ": " + kind_name +
                                     " needs two bounds, the lowest and the highest value to draw, e.g. " + example +
                                     ", not " + describe_type(bounds) +
                                     (pair ? " of " + std::to_string(pair->size()) + " values" : ""));
  }
  const toml::node& low = *pair->get(0);
  const toml::node& high = *pair->get(1);
  const std::string bound_context = context + ": " + kind_name;
  if (range.kind == RangeKind::IntUniform) {
    range.low = static_cast<double>(reader.read_whole_number(bound_context, low));
    range.high = static_cast<double>(reader.read_whole_number(bound_context, high));
  } else {
    range.low = reader.read_finite_number(bound_context, low);
    range.high = reader.read_finite_number(bound_context, high);
  }
  for (const toml::node* bound : {&low, &high}) {
    const double value = bound == &low ? range.low : range.high;
    if (!d.in_range(value)) {
      reader.fail(bound->source(), context + ": the " + (bound == &low ? "lower" : "upper") + " bound " +
                                       bound_text(*bound) + " of " + kind_name + " is out of range; " + d.range_fix);
    }
  }
  if (range.kind == RangeKind::LogUniform && range.low <= 0.0) {
    reader.fail(low.source(), context +
                                  ": log_uniform needs a lower bound above 0 (a log scale never reaches 0), not " +
                                  bound_text(low) + "; e.g. " + d.name +
                                  " = { log_uniform = [1e-06, 0.01] }, or use uniform to include 0");
  }
  if (range.low == range.high) {
    reader.fail(bounds.source(), context + ": the two bounds of " + kind_name + " are equal (" + bound_text(low) +
                                     "); to search that one value, write " + d.name + " = [" + bound_text(low) + "]");
  }
  if (range.low > range.high) {
    reader.fail(bounds.source(), context + ": the lower bound " + bound_text(low) + " of " + kind_name +
                                     " is above the upper bound " + bound_text(high) +
                                     "; write the lowest first: " + d.name + " = { " + kind_name + " = [" +
                                     bound_text(high) + ", " + bound_text(low) + "] }");
  }
  return range;
}

}  // namespace hf
