// Reads a hyperparameter written as a range, `key = { log_uniform = [1e-5, 0.1] }`, and checks it
// against the hyperparameter's descriptor: a kind the hyperparameter takes, two bounds of its
// kind inside its range, the lower below the upper, a log scale above 0. Every mistake is an
// InputError at the config's line and column that says what to write instead.
#pragma once

#include <string>

#include "host/config/toml_reader.hpp"
#include "host/search/hyperparameters.hpp"

namespace hf {

// The kinds a range table may name: uniform, log_uniform, int_uniform, and choice (a list).
inline constexpr const char* kChoiceKey = "choice";

// What a hyperparameter may be drawn from, for messages: "{ uniform = [a, b] } or
// { log_uniform = [a, b] }", "{ int_uniform = [a, b] }", or "" when no range.
std::string ranges_accepted(const HyperparameterDescriptor& d);

// `kind` is the range table's one key (an unknown one gets a "did you mean"), `bounds` its value.
// `context` names the hyperparameter in messages: "[hyperparameters] learning_rate".
HyperparameterRange read_range(const TomlReader& reader, const HyperparameterDescriptor& d, const std::string& context,
                               const toml::key& kind, const toml::node& bounds);

}  // namespace hf
