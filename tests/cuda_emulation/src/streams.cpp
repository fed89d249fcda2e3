// Streams and events: queues of work run lazily at synchronisation points (streams.hpp).
#include "tests/cuda_emulation/src/streams.hpp"

#include <thread>

using namespace hf_emu;

namespace hf_emu {

std::shared_ptr<Stream> resolve_stream(Runtime& state, cudaStream_t handle, cudaError_t& error) {
  error = cudaSuccess;
  const int device = current_device();
  if (handle == nullptr || handle == cudaStreamLegacy || handle == cudaStreamPerThread) {
    if ((error = device_missing(state, device)) != cudaSuccess) return nullptr;
    if (handle != cudaStreamPerThread) return state.devices[device].legacy_stream;
    // This thread's default stream: ordered with the legacy stream like any blocking stream.
    thread_local std::map<std::pair<std::uint64_t, int>, std::shared_ptr<Stream>> per_thread;
    std::shared_ptr<Stream>& stream = per_thread[{state.configuration, device}];
    if (stream == nullptr) {
      stream = std::make_shared<Stream>();
      stream->device = device;
      state.devices[device].streams.push_back(stream);
    }
    return stream;
  }
  const auto it = state.streams.find(handle);
  if (it == state.streams.end()) {
    error = cudaErrorInvalidResourceHandle;
    return nullptr;
  }
  return it->second;
}

std::string stream_name(const Stream& stream) {
  const std::string device = " (device " + std::to_string(stream.device) + ")";
  if (stream.legacy) return "the legacy default stream" + device;
  return "stream #" + std::to_string(stream.serial) + device;
}

void enqueue(Runtime& state, const std::shared_ptr<Stream>& stream, WorkItem item) {
  Device& device = state.devices[stream->device];
  if (stream->serial == 0) stream->serial = ++state.next_stream_serial;
  // The ordering check's clock: what the host waited for, and the legacy stream's implicit
  // ordering with blocking streams (whether or not their work happens to have run already).
  join(stream->clock, state.host_clock);
  if (stream->legacy) {
    for (const std::weak_ptr<Stream>& weak : device.streams) {
      const std::shared_ptr<Stream> other = weak.lock();
      if (other == nullptr || !other->blocking) continue;
      join(stream->clock, other->clock);
      if (other->enqueued > other->completed) item.waits.emplace_back(other, other->enqueued);
    }
  } else if (stream->blocking) {
    const std::shared_ptr<Stream>& legacy = device.legacy_stream;
    join(stream->clock, legacy->clock);
    if (legacy->enqueued > legacy->completed) item.waits.emplace_back(legacy, legacy->enqueued);
  }
  ++stream->enqueued;
  stream->clock[stream->serial] = stream->enqueued;
  auto operation = std::make_shared<StreamOperation>();
  operation->stream = stream->serial;
  operation->sequence = stream->enqueued;
  operation->clock = stream->clock;
  operation->description = item.description + " on " + stream_name(*stream);
  operation->queued_at = api_caller();
  item.operation = std::move(operation);
  stream->queue.push_back(std::move(item));
}

void host_waits_for(Runtime& state, const Stream& stream) { join(state.host_clock, stream.clock); }

cudaError_t drain(const std::shared_ptr<Stream>& stream, std::uint64_t sequence) {
  Runtime& state = runtime();
  std::lock_guard<std::recursive_mutex> executing(state.execution);
  for (;;) {
    WorkItem item;
    {
      std::lock_guard<std::mutex> lock(state.mutex);
      if (stream->completed >= sequence || stream->queue.empty()) break;
      item = std::move(stream->queue.front());
      stream->queue.pop_front();
    }
    for (const auto& [other, upto] : item.waits) drain(other, upto);
    cudaError_t sticky = cudaSuccess;
    {
      std::lock_guard<std::mutex> lock(state.mutex);
      if (stream->device < static_cast<int>(state.devices.size())) sticky = state.devices[stream->device].sticky;
    }
    // After a device fault the context is gone: queued work is dropped, as a GPU would.
    cudaError_t error = cudaSuccess;
    if (sticky == cudaSuccess) {
      std::string unordered;
      {
        const stream_order::RunningOperation running(item.operation);
        for (const Touch& touch : item.touches) stream_order::access(touch.begin, touch.end, touch.write, nullptr);
        unordered = stream_order::take_violation();
        if (unordered.empty()) {
          error = item.run();  // a kernel's accesses reach the check through the race check's hooks
          unordered = stream_order::take_violation();
        }
      }
      if (!unordered.empty()) {
        report_violation(unordered);
        if (error == cudaSuccess) error = cudaErrorLaunchFailure;
      }
    }
    std::lock_guard<std::mutex> lock(state.mutex);
    if (error != cudaSuccess && stream->device < static_cast<int>(state.devices.size()) &&
        state.devices[stream->device].sticky == cudaSuccess)
      state.devices[stream->device].sticky = error;
    ++stream->completed;
  }
  std::lock_guard<std::mutex> lock(state.mutex);
  return stream->device < static_cast<int>(state.devices.size()) ? state.devices[stream->device].sticky : cudaSuccess;
}

cudaError_t synchronize_device(int device) {
  Runtime& state = runtime();
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (device < 0 || device >= static_cast<int>(state.devices.size())) return cudaSuccess;
    Device& d = state.devices[device];
    streams.push_back(d.legacy_stream);
    host_waits_for(state, *d.legacy_stream);
    for (auto it = d.streams.begin(); it != d.streams.end();) {
      if (std::shared_ptr<Stream> s = it->lock()) {
        host_waits_for(state, *s);
        streams.push_back(std::move(s));
        ++it;
      } else {
        it = d.streams.erase(it);
      }
    }
  }
  cudaError_t error = cudaSuccess;
  for (const std::shared_ptr<Stream>& s : streams) error = drain(s);
  return error;
}

void synchronize_all_devices() {
  int count = 0;
  {
    Runtime& state = runtime();
    std::lock_guard<std::mutex> lock(state.mutex);
    count = static_cast<int>(state.devices.size());
  }
  for (int d = 0; d < count; ++d) synchronize_device(d);
}

}  // namespace hf_emu

namespace {

Event* find_event(Runtime& state, cudaEvent_t handle) {
  const auto it = state.events.find(handle);
  return it == state.events.end() ? nullptr : it->second.get();
}

bool event_complete(const Event& e) { return e.stream == nullptr || e.stream->completed >= e.sequence; }

}  // namespace

extern "C" {

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  if (stream == nullptr || (flags & ~1u) != 0) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const int device = current_device();
  if (const cudaError_t error = device_unusable(state, device)) return returned(error);
  auto s = std::make_shared<Stream>();
  s->device = device;
  s->blocking = (flags & cudaStreamNonBlocking) == 0;
  *stream = reinterpret_cast<cudaStream_t>(s.get());
  state.devices[device].streams.push_back(s);
  state.streams[*stream] = std::move(s);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  Runtime& state = runtime();
  std::shared_ptr<Stream> s;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const auto it = state.streams.find(stream);
    if (it == state.streams.end()) return returned(cudaErrorInvalidResourceHandle);
    s = it->second;
    state.streams.erase(it);
  }
  // CUDA lets queued work finish after the handle is gone; here it runs now.
  drain(s);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  Runtime& state = runtime();
  std::shared_ptr<Stream> s;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    cudaError_t error;
    s = resolve_stream(state, stream, error);
    if (s == nullptr) return returned(error);
    host_waits_for(state, *s);
  }
  return returned(drain(s));
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  Runtime& state = runtime();
  std::shared_ptr<Stream> s;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    cudaError_t error;
    s = resolve_stream(state, stream, error);
    if (s == nullptr) return returned(error);
    if (s->completed >= s->enqueued) {
      host_waits_for(state, *s);  // the host saw it complete
      return device_unusable(state, s->device);
    }
  }
  // Not done: the work runs now (a poll makes progress), but this poll still says "not ready".
  const cudaError_t error = drain(s);
  return error != cudaSuccess ? returned(error) : cudaErrorNotReady;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  cudaError_t error;
  const std::shared_ptr<Stream> s = resolve_stream(state, stream, error);
  if (s == nullptr) return returned(error);
  const Event* e = find_event(state, event);
  if (e == nullptr || flags != 0)
    return returned(e == nullptr ? cudaErrorInvalidResourceHandle : cudaErrorInvalidValue);
  if (e->stream == nullptr) return cudaSuccess;  // never recorded: nothing to wait for
  join(s->clock, e->clock);
  WorkItem wait{"cudaStreamWaitEvent", {{e->stream, e->sequence}}, [] { return cudaSuccess; }};
  enqueue(state, s, std::move(wait));
  return cudaSuccess;
}

cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t function, void* user_data) {
  if (function == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  cudaError_t error;
  const std::shared_ptr<Stream> s = resolve_stream(state, stream, error);
  if (s == nullptr) return returned(error);
  if ((error = device_unusable(state, s->device)) != cudaSuccess) return returned(error);
  enqueue(state, s, WorkItem{"cudaLaunchHostFunc", {}, [function, user_data] {
                               function(user_data);
                               return cudaSuccess;
                             }});
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (event == nullptr || (flags & ~7u) != 0) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const int device = current_device();
  if (const cudaError_t error = device_unusable(state, device)) return returned(error);
  auto e = std::make_unique<Event>();
  e->device = device;
  e->flags = flags;
  *event = reinterpret_cast<cudaEvent_t>(e.get());
  state.events[*event] = std::move(e);
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (state.events.erase(event) == 0) return returned(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  Event* e = find_event(state, event);
  if (e == nullptr) return returned(cudaErrorInvalidResourceHandle);
  cudaError_t error;
  const std::shared_ptr<Stream> s = resolve_stream(state, stream, error);
  if (s == nullptr) return returned(error);
  if (s->device != e->device) return returned(cudaErrorInvalidResourceHandle);
  if ((error = device_unusable(state, s->device)) != cudaSuccess) return returned(error);
  auto time = std::make_shared<double>(0.0);
  enqueue(state, s, WorkItem{"cudaEventRecord", {}, [time] {
                               *time = now_ms();
                               return cudaSuccess;
                             }});
  e->stream = s;
  e->sequence = s->enqueued;
  e->clock = s->clock;
  e->time_ms = std::move(time);
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  Runtime& state = runtime();
  std::shared_ptr<Stream> s;
  std::uint64_t sequence = 0;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const Event* e = find_event(state, event);
    if (e == nullptr) return returned(cudaErrorInvalidResourceHandle);
    if (e->stream == nullptr) return cudaSuccess;
    s = e->stream;
    sequence = e->sequence;
    join(state.host_clock, e->clock);
  }
  return returned(drain(s, sequence));
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  Runtime& state = runtime();
  std::shared_ptr<Stream> s;
  std::uint64_t sequence = 0;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    const Event* e = find_event(state, event);
    if (e == nullptr) return returned(cudaErrorInvalidResourceHandle);
    if (event_complete(*e)) {
      join(state.host_clock, e->clock);  // the host saw it complete
      return device_unusable(state, e->device);
    }
    s = e->stream;
    sequence = e->sequence;
  }
  const cudaError_t error = drain(s, sequence);
  return error != cudaSuccess ? returned(error) : cudaErrorNotReady;
}

cudaError_t cudaEventElapsedTime(float* milliseconds, cudaEvent_t start, cudaEvent_t end) {
  if (milliseconds == nullptr) return returned(cudaErrorInvalidValue);
  Runtime& state = runtime();
  std::lock_guard<std::mutex> lock(state.mutex);
  const Event* a = find_event(state, start);
  const Event* b = find_event(state, end);
  if (a == nullptr || b == nullptr) return returned(cudaErrorInvalidResourceHandle);
  if ((a->flags | b->flags) & cudaEventDisableTiming) return returned(cudaErrorInvalidResourceHandle);
  if (a->stream == nullptr || b->stream == nullptr) return returned(cudaErrorInvalidResourceHandle);
  if (!event_complete(*a) || !event_complete(*b)) return returned(cudaErrorNotReady);
  *milliseconds = static_cast<float>(*b->time_ms - *a->time_ms);
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
  Runtime& state = runtime();
  int device = 0;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    device = current_device();
    if (const cudaError_t error = device_missing(state, device)) return returned(error);
  }
  return returned(synchronize_device(device));
}

}  // extern "C"
