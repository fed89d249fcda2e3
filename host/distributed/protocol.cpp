#include "host/distributed/protocol.hpp"

#include "host/distributed/message.hpp"

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

std::vector<char> encode_hello(const WorkerHello& hello) {
  MessageWriter w;
  w.put_string(hello.error);
  w.put<std::int32_t>(hello.error_exit_status);
  w.put_string(hello.study_hash);
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
    m.score = training_score(m.outcome);
  }
  return results;
}

}  // namespace hf
