// `hyperfuse make-data`: synthetic data in the D.AT layout. Simulated daily closes of many
// stocks whose returns switch between momentum, mean-reversion and calm regimes with their own
// volatility; each row is 30 consecutive closes divided by the last one, labelled 1 when a
// close in the next 10 days is at least 5% above the last. The regimes leave traces in the
// window that a network can learn from.
#pragma once

#include <cstdint>
#include <string>

namespace hf {

struct SyntheticDataOptions {
  int train_rows = 10000;
  int test_rows = 2500;
  int latest_rows = 0;  // rows of latest_csv
  std::uint64_t seed = 2024;
};

struct SyntheticData {
  std::string train_csv;
  std::string test_csv;
  // As D.AT's latest.csv: per row a ticker ("SYN0001", ...) and one more stock's last 30 closes
  // divided by the last, no label: what `hyperfuse predict` turns into a buy list.
  std::string latest_csv;
  double train_positive_rate = 0.0;
  double test_positive_rate = 0.0;
};

// Training and test rows come from different simulated stocks.
SyntheticData make_synthetic_data(const SyntheticDataOptions& options);

inline constexpr int kWindowDays = 30;
inline constexpr int kHorizonDays = 10;
inline constexpr double kGainTarget = 1.05;

}  // namespace hf
