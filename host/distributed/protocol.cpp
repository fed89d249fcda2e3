#include "host/distributed/protocol.hpp"

#include "host/distributed/message.hpp"
#include "host/journal/study_identity.hpp"

namespace hf {
namespace {

template <typename T>
void put_values(MessageWriter& w, const std::vector<T>& values) {
  w.put<std::uint64_t>(values.size());
  for (const T& v : values) w.put<T>(v);
}

// No reserve from the count: a damaged count fails at the first missing value instead.
template <typename T>
std::vector<T> get_values(MessageReader& r) {
  const auto count = r.get<std::uint64_t>();
  std::vector<T> values;
  for (std::uint64_t i = 0; i < count; ++i) values.push_back(r.get<T>());
  return values;
}

}  // namespace

std::string drawn_values_hash(const SearchPlan& plan) {
  std::string drawn;
  for (std::size_t a = 0; a < plan.axes.size(); ++a) {
    if (!plan.axes[a].range) continue;
    for (const HyperparameterValue& v : plan.axes[a].values) drawn += v.text + "\n";
  }
  return drawn.empty() ? std::string() : content_hash(drawn);
}

std::vector<char> encode_hello(const WorkerHello& hello) {
  MessageWriter w;
  w.put_string(hello.error);
  w.put<std::int32_t>(hello.error_exit_status);
  w.put_string(hello.study_hash);
  w.put_string(hello.drawn_values);
  w.put<std::uint64_t>(hello.packs);
  w.put<std::int32_t>(hello.threads);
  w.put_string(hello.host);
  w.put_string(hello.backend);
  return w.bytes();
}

WorkerHello decode_hello(const std::vector<char>& bytes) {
  MessageReader r(bytes);
  WorkerHello hello;
  hello.error = r.get_string();
  hello.error_exit_status = r.get<std::int32_t>();
  hello.study_hash = r.get_string();
  hello.drawn_values = r.get_string();
  hello.packs = r.get<std::uint64_t>();
  hello.threads = r.get<std::int32_t>();
  hello.host = r.get_string();
  hello.backend = r.get_string();
  return hello;
}

std::vector<char> encode_count(std::uint64_t count) {
  MessageWriter w;
  w.put<std::uint64_t>(count);
  return w.bytes();
}

std::uint64_t decode_count(const std::vector<char>& bytes) {
  MessageReader r(bytes);
  return r.get<std::uint64_t>();
}

std::vector<char> encode_pack_indices(const std::vector<std::size_t>& packs) {
  MessageWriter w;
  w.put<std::uint64_t>(packs.size());
  for (std::size_t p : packs) w.put<std::uint64_t>(p);
  return w.bytes();
}

std::vector<std::size_t> decode_pack_indices(const std::vector<char>& bytes) {
  MessageReader r(bytes);
  std::vector<std::size_t> packs(r.get<std::uint64_t>());
  for (std::size_t& p : packs) p = r.get<std::uint64_t>();
  return packs;
}

std::vector<char> encode_pack_results(const PackResults& results) {
  MessageWriter w;
  w.put<std::uint64_t>(results.pack);
  w.put<std::uint64_t>(results.members.size());
  for (const TrainingResult& m : results.members) {
    w.put<std::uint8_t>(m.done);
    w.put<std::uint8_t>(m.outcome.failed);
    for (std::int64_t n : {m.outcome.counts.tp, m.outcome.counts.fp, m.outcome.counts.fn, m.outcome.counts.tn}) {
      w.put<std::int64_t>(n);
    }
    for (std::int64_t n :
         {m.outcome.test_counts.tp, m.outcome.test_counts.fp, m.outcome.test_counts.fn, m.outcome.test_counts.tn}) {
      w.put<std::int64_t>(n);
    }
    w.put<std::int32_t>(m.outcome.predicted_positives.rows());
    w.put_string(m.outcome.predicted_positives.to_bytes());
    w.put<double>(m.outcome.seconds);
    w.put_string(m.outcome.error);
    w.put_string(m.device);
    put_values(w, m.outcome.epoch_losses);
    put_values(w, m.outcome.parameters);
    w.put_string(m.outcome.state.empty() ? std::string() : training_state_bytes(m.outcome.state));
  }
  return w.bytes();
}

PackResults decode_pack_results(const std::vector<char>& bytes) {
  MessageReader r(bytes);
  PackResults results;
  results.pack = r.get<std::uint64_t>();
  results.members.resize(r.get<std::uint64_t>());
  for (TrainingResult& m : results.members) {
    m.done = r.get<std::uint8_t>() != 0;
    m.outcome.failed = r.get<std::uint8_t>() != 0;
    m.outcome.counts.tp = r.get<std::int64_t>();
    m.outcome.counts.fp = r.get<std::int64_t>();
    m.outcome.counts.fn = r.get<std::int64_t>();
    m.outcome.counts.tn = r.get<std::int64_t>();
    m.outcome.test_counts.tp = r.get<std::int64_t>();
    m.outcome.test_counts.fp = r.get<std::int64_t>();
    m.outcome.test_counts.fn = r.get<std::int64_t>();
    m.outcome.test_counts.tn = r.get<std::int64_t>();
    const int rows = r.get<std::int32_t>();
    m.outcome.predicted_positives = RowBitset::from_bytes(rows, r.get_string());
    m.outcome.seconds = r.get<double>();
    m.outcome.error = r.get_string();
    m.device = r.get_string();
    m.outcome.epoch_losses = get_values<double>(r);
    m.outcome.parameters = get_values<float>(r);
    const std::string state = r.get_string();
    if (!state.empty()) m.outcome.state = training_state_from_bytes(state);
    m.score = training_score(m.outcome);
  }
  return results;
}

std::vector<char> encode_pack_orders(const std::vector<PackOrder>& orders) {
  MessageWriter w;
  w.put<std::uint64_t>(orders.size());
  for (const PackOrder& order : orders) {
    const PlannedPack& p = order.planned;
    w.put<std::uint64_t>(order.pack);
    w.put<std::uint64_t>(order.pack_count);
    put_values(w, p.spec.layout.widths);
    w.put<std::int32_t>(p.spec.batch_size);
    put_values(w, p.spec.members);  // plain settings and a seed: the same binary reads them
    w.put<float>(p.options.prediction_threshold);
    w.put<std::uint8_t>(p.options.shuffle);
    w.put<std::uint64_t>(p.options.order_seed);
    w.put<std::uint8_t>(p.options.keep_parameters);
    w.put<std::uint8_t>(p.options.keep_state);
    w.put<std::int32_t>(p.first_epoch);
    w.put<double>(p.flops);
    w.put<std::uint64_t>(order.start.size());
    for (const TrainingState& state : order.start) w.put_string(training_state_bytes(state));
  }
  return w.bytes();
}

std::vector<PackOrder> decode_pack_orders(const std::vector<char>& bytes) {
  MessageReader r(bytes);
  std::vector<PackOrder> orders;
  const auto count = r.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t pack = r.get<std::uint64_t>();
    const std::size_t pack_count = r.get<std::uint64_t>();
    ParameterLayout layout(get_values<int>(r));
    const int batch_size = r.get<std::int32_t>();
    PackOptions options;
    std::vector<PackMember> members = get_values<PackMember>(r);
    options.prediction_threshold = r.get<float>();
    options.shuffle = r.get<std::uint8_t>() != 0;
    options.order_seed = r.get<std::uint64_t>();
    options.keep_parameters = r.get<std::uint8_t>() != 0;
    options.keep_state = r.get<std::uint8_t>() != 0;
    const int first_epoch = r.get<std::int32_t>();
    const double flops = r.get<double>();
    std::vector<TrainingState> start;
    const auto states = r.get<std::uint64_t>();
    for (std::uint64_t s = 0; s < states; ++s) start.push_back(training_state_from_bytes(r.get_string()));
    orders.push_back(PackOrder{
        pack, pack_count,
        PlannedPack{PackSpec{std::move(layout), batch_size, std::move(members)}, options, {}, flops, first_epoch},
        std::move(start)});
  }
  return orders;
}

}  // namespace hf
