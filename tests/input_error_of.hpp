// The message of the InputError an action throws, for tests that check what a refusal says; a
// test failure when it throws none.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "host/common/errors.hpp"

namespace hf::testing {

inline std::string input_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError";
  return "";
}

}  // namespace hf::testing
