#include "host/data/synthetic_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "host/common/random.hpp"

namespace hf {
namespace {

enum class Regime { Momentum, MeanReversion, Calm };

class StockSimulator {
 public:
  explicit StockSimulator(std::uint64_t seed) : random_(seed) {}

  double uniform() { return static_cast<double>(random_.next() >> 11) * 0x1.0p-53; }
  double normal() {
    const double u1 = 1.0 - uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * uniform());
  }

  // One stock's daily closes.
  std::vector<double> closes(int days) {
    std::vector<double> price(days);
    double log_price = std::log(20.0 + 180.0 * uniform());
    const double base_volatility = 0.008 + 0.02 * uniform();
    double previous_return = 0.0, trend = log_price;
    Regime regime = Regime::Calm;
    for (int d = 0; d < days; ++d) {
      if (uniform() < 0.03) regime = static_cast<Regime>(random_.below(3));
      const double volatility = base_volatility * (regime == Regime::Calm ? 0.6 : 1.3);
      double r = 0.0003 + volatility * normal();
      if (regime == Regime::Momentum) r += 0.45 * previous_return;
      if (regime == Regime::MeanReversion) r -= 0.25 * (log_price - trend);
      log_price += r;
      trend += 0.1 * (log_price - trend);
      previous_return = r;
      price[d] = std::exp(log_price);
    }
    return price;
  }

 private:
  SplitMix64 random_;
};

void append_number(std::string& out, double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  std::string text(buffer);
  while (text.back() == '0' && text[text.size() - 2] != '.') text.pop_back();
  out += text;
}

// Rows from consecutive simulated stocks until `rows` are written.
std::string make_rows(std::uint64_t seed, int rows, double* positive_rate) {
  constexpr int kDays = 400, kStride = 5;
  StockSimulator simulator(seed);
  std::string csv;
  int written = 0, positives = 0;
  while (written < rows) {
    const std::vector<double> price = simulator.closes(kDays);
    for (int last = kWindowDays - 1; last + kHorizonDays < kDays && written < rows; last += kStride) {
      for (int d = last - kWindowDays + 1; d <= last; ++d) {
        append_number(csv, price[d] / price[last]);
        csv += ',';
      }
      const double best = *std::max_element(price.begin() + last + 1, price.begin() + last + 1 + kHorizonDays);
      const bool gain = best >= kGainTarget * price[last];
      csv += gain ? "1\n" : "0\n";
      positives += gain;
      ++written;
    }
  }
  *positive_rate = rows > 0 ? static_cast<double>(positives) / rows : 0.0;
  return csv;
}

// One row per simulated stock: its ticker and its last kWindowDays closes.
std::string make_latest_rows(std::uint64_t seed, int rows) {
  constexpr int kDays = 200;
  StockSimulator simulator(seed);
  std::string csv;
  for (int r = 0; r < rows; ++r) {
    const std::vector<double> price = simulator.closes(kDays);
    char ticker[24];
    std::snprintf(ticker, sizeof ticker, "SYN%04d", r + 1);
    csv += ticker;
    for (int d = kDays - kWindowDays; d < kDays; ++d) {
      csv += ',';
      append_number(csv, price[d] / price[kDays - 1]);
    }
    csv += '\n';
  }
  return csv;
}

}  // namespace

SyntheticData make_synthetic_data(const SyntheticDataOptions& options) {
  SyntheticData data;
  data.train_csv = make_rows(mix64(options.seed), options.train_rows, &data.train_positive_rate);
  // Not mix64(seed + 1): that would make this seed's test rows the next seed's training rows.
  data.test_csv = make_rows(mix64(mix64(options.seed) ^ 0x7E57DA7Aull), options.test_rows, &data.test_positive_rate);
  data.latest_csv = make_latest_rows(mix64(mix64(options.seed) ^ 0x1A7E57ull), options.latest_rows);
  return data;
}

}  // namespace hf
