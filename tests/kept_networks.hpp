// Comparing the trained networks two runs of one study kept in their journals: a resumed or
// distributed search must keep the very networks a plain run keeps.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>

#include "host/journal/stored_models.hpp"

namespace hf::testing {

// The networks (parameters and epoch losses) of every kept rank are equal, bit for bit.
inline void expect_the_same_kept_networks(const std::filesystem::path& study, const std::filesystem::path& reference) {
  const StoredModels got(study), expected(reference);
  ASSERT_EQ(got.kept(), expected.kept());
  EXPECT_GT(got.kept(), 0);
  for (int rank = 1; rank <= got.kept(); ++rank) {
    const StoredEnsemble a = got.ensemble(rank), b = expected.ensemble(rank);
    EXPECT_EQ(a.combination, b.combination) << "rank " << rank;
    EXPECT_EQ(a.parameters, b.parameters) << "rank " << rank;
    EXPECT_EQ(a.epoch_losses, b.epoch_losses) << "rank " << rank;
  }
}

}  // namespace hf::testing
