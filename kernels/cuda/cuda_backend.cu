// The CUDA implementation of the pack primitives (kernels/backend/backend.hpp): every primitive
// runs over all networks of the pack at once, with per-network codes and scalars in device
// arrays (pack_view.hpp), layer GEMMs as cuBLAS strided-batched SGEMMs over runs of active
// networks (layer_gemms.hpp) and the element-wise math from kernels/math, the same functions
// the CPU backend runs, compiled without FMA contraction (see CMakeLists.txt) so each element
// rounds as on the CPU. Host-side layouts of the interface are the CPU backend's.
//
// The primitives stay the op-tested reference and the step-by-step path, their buffers allocated
// when one is first called; train_pack takes the whole-epoch path (train_epoch, evaluate), which
// runs the fused kernels (fused_kernels.hpp): launches of at most a planned number of steps per
// pack and epoch (each within about 100 ms in the cost model), on the same device buffers
// (parameters, optimizer states, health and loss sums), over data copied to the device once
// (resident_rows.hpp).
#include "kernels/cuda/cuda_backend.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device_buffer.hpp"
#include "kernels/cuda/fused_kernels.hpp"
#include "kernels/cuda/fused_plan.hpp"
#include "kernels/cuda/fused_step_cost.hpp"
#include "kernels/cuda/kernel_launch.hpp"
#include "kernels/cuda/layer_gemms.hpp"
#include "kernels/cuda/pack_kernels.hpp"
#include "kernels/cuda/resident_rows.hpp"
#include "kernels/math/activations.hpp"
#include "kernels/math/dropout.hpp"

namespace hf {
namespace {

// A stream owned by a backend and the workspaces it made, destroyed with the last of them.
using SharedStream = std::shared_ptr<std::remove_pointer_t<cudaStream_t>>;

// FP32 FMA lanes per multiprocessor: 16 per scheduler on Turing (7.5) and the A100 (8.0), 32 on
// the later architectures.
int fp32_lanes_per_multiprocessor(int major, int minor) { return major < 8 || (major == 8 && minor == 0) ? 64 : 128; }

int fp32_lanes_per_multiprocessor(int device) {
  int major = 0, minor = 0;
  HF_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  HF_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  return fp32_lanes_per_multiprocessor(major, minor);
}

// The training steps of one launch of this pack's fused epoch on a device of these limits: about
// kLaunchTargetSeconds for the pack's slowest network in the cost model, at most `steps_in_epoch`.
// The model issues a warp instruction per scheduler and cycle: twice the cycles where a scheduler
// has 16 FP32 lanes (bench/fused_model.cpp, Machine::cycles_per_instruction).
int launch_steps(const FusedPlan& plan, const PackSpec& pack, const DeviceLimits& device, int steps_in_epoch) {
  double slowest = 0.0;
  for (const PackMember& m : pack.members)
    slowest = std::max(slowest, fused_step_cycles(plan, m.activation, m.optimizer, m.dropout > 0.0).total());
  const double cycles = slowest * 128.0 / fp32_lanes_per_multiprocessor(device.compute_major, device.compute_minor);
  return planned_steps_per_launch(cycles, static_cast<int>(pack.members.size()),
                                  device.multiprocessors * kFusedBlocksPerMultiprocessor, device.clock_khz / 1e6,
                                  steps_in_epoch);
}

// A run [begin, end) of consecutive active networks: one batched GEMM each.
struct NetworkRun {
  int begin = 0, end = 0;
};

// The element count of every device buffer a CudaPack holds: the constructor allocates the fused
// path's (the step-by-step ones come with the first primitive, need_step_buffers) and
// cuda_workspace_bytes adds them up, so pack sizing is what a workspace allocates.
struct CudaPackSizes {
  std::size_t parameters = 0;              // each of parameters, gradients and two optimizer states
  std::vector<std::size_t> layer, output;  // per layer: Z, activation and gradient each; output (hidden only)
  std::size_t batch_x = 0, batch_y = 0;    // the batch, copied once for every network
  std::size_t models = 0;                  // one of each per-network array
  // The fused kernels: their plan, one FusedLayerView per layer, and global scratch for the
  // buffers that do not fit in shared memory (none for the seed's networks).
  FusedPlan fused;
  std::size_t layer_views = 0;
  std::size_t fused_scratch = 0;  // floats
};

// A pack without a batch size (the op tests' workspaces, driven primitive by primitive) has no
// fused plan: its layers are empty, and the whole-epoch calls return false.
FusedPlan fused_plan_of(const PackSpec& pack, const DeviceLimits& device) {
  if (pack.batch_size < 1) return FusedPlan{};
  if (device.shared_bytes_per_block == 0)
    throw std::logic_error("fused plan of a pack: the device's limits were not read (DeviceLimits is empty)");
  bool any_dropout = false, any_row_activation = false;
  for (const PackMember& m : pack.members) {
    any_dropout = any_dropout || m.dropout > 0.0;
    any_row_activation = any_row_activation || is_row_activation(m.activation);
  }
  return plan_fused_training(pack.layout, pack.batch_size, any_dropout, any_row_activation,
                             device.shared_bytes_per_block);
}

CudaPackSizes cuda_pack_sizes(const PackSpec& pack, int max_rows, const DeviceLimits& device) {
  const ParameterLayout& L = pack.layout;
  CudaPackSizes sizes;
  sizes.fused = fused_plan_of(pack, device);
  sizes.layer_views = sizes.fused.layers.size();
  sizes.models = static_cast<std::size_t>(pack.models());
  sizes.parameters = sizes.models * L.size;
  for (int l = 0; l < L.layers(); ++l) {
    const std::size_t block = sizes.models * static_cast<std::size_t>(max_rows) * L.out(l);
    sizes.layer.push_back(block);
    sizes.output.push_back(l + 1 < L.layers() ? block : 0);
  }
  sizes.batch_x = static_cast<std::size_t>(max_rows) * L.in(0);
  sizes.batch_y = static_cast<std::size_t>(max_rows);
  sizes.fused_scratch = sizes.models * sizes.fused.global_words_per_network;
  return sizes;
}

// Bytes per network of the per-network arrays: losses and their epoch sums, first non-finite
// step, non-finite flag, confusion counts, optimizer scalars, activation/loss/optimizer codes,
// active flag, dropout, keep scale, l1 and seed; for the fused kernels learning rate and weight
// decay (doubles, as optimizer_step_scalars takes them) and max_epochs.
constexpr std::size_t kPerNetworkArrayBytes = 2 * sizeof(double) + sizeof(std::int64_t) + sizeof(std::uint8_t) +
                                              4 * sizeof(long long) + sizeof(OptimizerStep) + 3 * sizeof(std::uint8_t) +
                                              sizeof(std::uint8_t) + 3 * sizeof(float) + sizeof(std::uint64_t) +
                                              2 * sizeof(double) + sizeof(int);

struct PackBuffers {
  PackBuffers(const PackSpec& pack, int rows, cudaStream_t s, cublasHandle_t handle)
      : spec(pack), max_rows(rows), stream(s), cublas(handle) {}

  PackSpec spec;
  int max_rows = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;

  DeviceBuffer<float> parameters, state1, state2;
  // The step-by-step path's buffers, allocated when a primitive first needs them
  // (need_step_buffers): the fused path, which trains every pack with a batch size, never does.
  // Per layer, models x max_rows x out(l). `output` exists for hidden layers only: the
  // activation after dropout, or a copy of it, which the next layer reads.
  DeviceBuffer<float> gradients;
  std::vector<DeviceBuffer<float>> z, y, output, g;
  DeviceBuffer<float> batch_x, batch_y;
  CudaPackSizes sizes;  // of every buffer, the step-by-step ones included
  bool step_buffers = false;
  DeviceBuffer<double> losses;
  DeviceBuffer<double> loss_sums;  // per network, since the trainer last took them
  DeviceBuffer<std::int64_t> first_nonfinite_loss_step;
  DeviceBuffer<std::uint8_t> nonfinite_parameters;
  DeviceBuffer<long long> confusion;  // models x {tp, fp, fn, tn}

  DeviceBuffer<std::uint8_t> activation_codes, loss_codes, optimizer_codes, active;
  DeviceBuffer<float> dropout, keep_scale, l1;
  DeviceBuffer<std::uint64_t> seeds;
  DeviceBuffer<OptimizerStep> scalars;

  // The fused kernels' own: the plan on the device, per-network settings they read, scratch.
  FusedPlan fused;
  DeviceBuffer<FusedLayerView> layer_views;
  DeviceBuffer<double> learning_rates, weight_decays;
  DeviceBuffer<int> max_epochs;
  DeviceBuffer<float> fused_scratch;

  std::vector<std::uint8_t> active_host;  // what `active` holds on the device
  std::vector<NetworkRun> runs;           // consecutive active networks
  bool any_prelu = false, any_row_activation = false, any_l1 = false;

  int models() const { return spec.models(); }
  const ParameterLayout& layout() const { return spec.layout; }
  std::size_t block(int layer) const { return static_cast<std::size_t>(max_rows) * layout().out(layer); }
  bool hidden(int layer) const { return layer + 1 < layout().layers(); }

  PackView view() const {
    PackView v;
    v.models = models();
    v.max_rows = max_rows;
    v.parameters = layout().size;
    v.used = layout().used;
    v.prelu_offset = layout().prelu_offset;
    v.activation = activation_codes.data();
    v.loss = loss_codes.data();
    v.optimizer = optimizer_codes.data();
    v.dropout = dropout.data();
    v.keep_scale = keep_scale.data();
    v.l1 = l1.data();
    v.seed = seeds.data();
    v.active = active.data();
    return v;
  }

  LayerView layer_view(int layer) {
    LayerView v;
    v.layer = layer;
    v.width = layout().out(layer);
    v.output_layer = !hidden(layer);
    v.bias_offset = layout().bias_offset[layer];
    v.pre_activation = z[layer].data();
    v.activation = y[layer].data();
    v.output = hidden(layer) ? output[layer].data() : nullptr;
    v.gradient = g[layer].data();
    return v;
  }

  float* buffer(LayerBuffer which, int layer) {
    switch (which) {
      case LayerBuffer::PreActivation: return z[layer].data();
      case LayerBuffer::Activation: return y[layer].data();
      case LayerBuffer::Output: return hidden(layer) ? output[layer].data() : y[layer].data();
      case LayerBuffer::Gradient: return g[layer].data();
    }
    return nullptr;
  }

  // What layer `layer` reads for network `begin` onwards, and the stride between networks.
  std::pair<const float*, long long> input(int layer, int begin) const {
    if (layer == 0) return {batch_x.data(), 0};
    const long long stride = static_cast<long long>(block(layer - 1));
    return {output[layer - 1].data() + begin * stride, stride};
  }

  FusedShape fused_shape() const {
    FusedShape v;
    v.models = models();
    v.layers = layout().layers();
    v.batch = fused.batch;
    v.columns = fused.columns;
    v.stride = fused.stride;
    v.weight_tiles = fused.weight_tiles;
    v.biases = fused.biases;
    v.state_slots = fused.state_slots;
    v.shared_words = static_cast<unsigned>(fused.shared_words);
    v.global_words = fused.global_words_per_network;
    v.parameters = layout().size;
    v.prelu_offset = layout().prelu_offset;
    v.used = layout().used;
    const auto place = [](const FusedPlacement& p) {
      return FusedPlace{static_cast<unsigned>(p.offset), p.shared ? 1u : 0u};
    };
    v.batch_x[0] = place(fused.batch_x[0]);
    v.batch_x[1] = place(fused.batch_x[1]);
    v.labels = place(fused.labels);
    v.loss_terms = place(fused.loss_terms);
    v.reductions = place(fused.reductions);
    v.row_gradient = place(fused.row_gradient);
    v.row_activation = place(fused.row_activation);
    v.bias_state = place(fused.bias_state);
    v.tile_state = place(fused.tile_state);
    v.layer = layer_views.data();
    return v;
  }

  FusedNetworks fused_networks() const {
    FusedNetworks v;
    v.activation = activation_codes.data();
    v.loss = loss_codes.data();
    v.optimizer = optimizer_codes.data();
    v.dropout = dropout.data();
    v.keep_scale = keep_scale.data();
    v.l1 = l1.data();
    v.learning_rate = learning_rates.data();
    v.weight_decay = weight_decays.data();
    v.seed = seeds.data();
    v.max_epochs = max_epochs.data();
    return v;
  }

  FusedState fused_state() {
    FusedState v;
    v.parameters = parameters.data();
    v.state1 = state1.data();
    v.state2 = state2.data();
    v.loss_sums = loss_sums.data();
    v.first_nonfinite_loss_step = first_nonfinite_loss_step.data();
    v.nonfinite_parameters = nonfinite_parameters.data();
    v.scratch = fused_scratch.data();
    return v;
  }

  // Brings the device's active flags and the GEMM runs up to date with this step's.
  void use_active(const StepInfo& info) { set_active(info.active); }

  // The same for flags `active` (null: every network).
  void set_active(const std::uint8_t* flags) {
    bool changed = false;
    for (int m = 0; m < models(); ++m) {
      const std::uint8_t flag = flags == nullptr || flags[m] != 0 ? 1 : 0;
      changed = changed || active_host[m] != flag;
      active_host[m] = flag;
    }
    if (!changed) return;
    active.upload(active_host.data(), active_host.size(), stream);
    runs.clear();
    for (int m = 0; m < models();) {
      if (!active_host[m]) {
        ++m;
        continue;
      }
      NetworkRun run{m, m};
      while (run.end < models() && active_host[run.end]) ++run.end;
      runs.push_back(run);
      m = run.end;
    }
  }

  GemmShape shape(int layer, int rows, const NetworkRun& run) const {
    GemmShape s;
    s.in = layout().in(layer);
    s.out = layout().out(layer);
    s.rows = rows;
    s.count = run.end - run.begin;
    s.parameter_stride = static_cast<long long>(layout().size);
    s.input_stride = input(layer, 0).second;
    s.output_stride = static_cast<long long>(block(layer));
    return s;
  }

  void synchronize() { HF_CUDA_CHECK(cudaStreamSynchronize(stream)); }

  // Allocates the step-by-step buffers unless they are there; the gradients start at zero. All
  // or nothing: a failed allocation leaves none.
  void need_step_buffers() {
    if (step_buffers) return;
    DeviceBuffer<float> new_gradients(sizes.parameters, stream);
    std::vector<DeviceBuffer<float>> new_z, new_y, new_g, new_output;
    for (std::size_t l = 0; l < sizes.layer.size(); ++l) {
      new_z.emplace_back(sizes.layer[l], stream);
      new_y.emplace_back(sizes.layer[l], stream);
      new_g.emplace_back(sizes.layer[l], stream);
      new_output.emplace_back(sizes.output[l], stream);
    }
    DeviceBuffer<float> new_batch_x(sizes.batch_x, stream), new_batch_y(sizes.batch_y, stream);
    new_gradients.fill_bytes(0, stream);
    gradients = std::move(new_gradients);
    z = std::move(new_z);
    y = std::move(new_y);
    g = std::move(new_g);
    output = std::move(new_output);
    batch_x = std::move(new_batch_x);
    batch_y = std::move(new_batch_y);
    step_buffers = true;
  }
};

template <typename T, typename F>
DeviceBuffer<T> per_network(const PackSpec& spec, cudaStream_t stream, F&& value_of) {
  std::vector<T> host;
  host.reserve(spec.members.size());
  for (const PackMember& member : spec.members) host.push_back(value_of(member));
  DeviceBuffer<T> buffer(host.size(), stream);
  buffer.upload(host.data(), host.size(), stream);
  HF_CUDA_CHECK(cudaStreamSynchronize(stream));  // `host` goes out of scope
  return buffer;
}

// The plan in the device form the fused kernels read, layer by layer.
std::vector<FusedLayerView> fused_layer_views(const FusedPlan& plan, const ParameterLayout& layout) {
  const auto place = [](const FusedPlacement& p) {
    return FusedPlace{static_cast<unsigned>(p.offset), p.shared ? 1u : 0u};
  };
  std::vector<FusedLayerView> views;
  for (int l = 0; l < layout.layers() && !plan.layers.empty(); ++l) {
    const FusedLayerPlan& p = plan.layers[static_cast<std::size_t>(l)];
    FusedLayerView v;
    v.in = p.in;
    v.out = p.out;
    v.in4 = p.in4;
    v.out4 = p.out4;
    v.mask_words = p.mask_words;
    v.forward_m = p.forward.m;
    v.forward_n = p.forward.n;
    v.backward_m = p.backward.m;
    v.backward_n = p.backward.n;
    v.weight_tiles_n = p.weight_tiles_n;
    v.weight_tiles = p.weight_tiles;
    v.first_weight_tile = p.first_weight_tile;
    v.first_bias = p.first_bias;
    v.weight_offset = layout.weight_offset[static_cast<std::size_t>(l)];
    v.bias_offset = layout.bias_offset[static_cast<std::size_t>(l)];
    v.weights = place(p.weights);
    v.biases = place(p.biases);
    v.pre_activation = place(p.pre_activation);
    v.output = place(p.output);
    v.mask = place(p.mask);
    views.push_back(v);
  }
  return views;
}

// "sm_75, sm_80, compute_120 (PTX)" for CMake's "75-real,80-real,120-virtual" (entries without a
// suffix are both); anything else (native, all) as written.
std::string architecture_names(const std::string& list) {
  std::string names;
  const auto add = [&](const std::string& name) { names += (names.empty() ? "" : ", ") + name; };
  std::size_t start = 0;
  while (start < list.size()) {
    const std::size_t end = std::min(list.find_first_of(",;", start), list.size());
    const std::string item = list.substr(start, end - start);
    start = end + 1;
    const std::size_t dash = item.find('-');
    const std::string number = item.substr(0, dash);
    const std::string kind = dash == std::string::npos ? "" : item.substr(dash + 1);
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) {
      add(item);
      continue;
    }
    if (kind != "virtual") add("sm_" + number);
    if (kind != "real") add("compute_" + number + " (PTX)");
  }
  return names;
}

std::string built_architecture_list() {
#if HYPERFUSE_CUDA_EMULATED
  return ::hf_emu::built_architectures();
#else
  return HYPERFUSE_CUDA_ARCHITECTURES;
#endif
}

std::string device_text(int device) { return "CUDA device " + std::to_string(device); }

// The limits of `device`, which must be the calling thread's current device (the kernels'
// attributes are queried there).
DeviceLimits current_device_limits(int device) {
  DeviceLimits limits;
  cudaDeviceProp properties{};
  HF_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
  limits.compute_major = properties.major;
  limits.compute_minor = properties.minor;
  limits.multiprocessors = properties.multiProcessorCount;
  limits.registers_per_multiprocessor = properties.regsPerMultiprocessor;
  limits.l2_bytes = static_cast<std::size_t>(std::max(properties.l2CacheSize, 0));
  HF_CUDA_CHECK(cudaDeviceGetAttribute(&limits.clock_khz, cudaDevAttrClockRate, device));
  int optin = 0;
  HF_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  limits.shared_bytes_per_block = static_cast<std::size_t>(std::max(optin, 0));
  cudaFuncAttributes training{}, evaluation{};
  cudaError_t status = fused_training_attributes(training);
  if (status == cudaSuccess) status = fused_evaluation_attributes(evaluation);
  if (status == cudaErrorNoKernelImageForDevice || status == cudaErrorInvalidDeviceFunction) {
    cudaGetLastError();  // not sticky: the device stays usable for queries
    return limits;       // the card's own limit, for messages: nothing of this build runs there
  }
  HF_CUDA_CHECK(status);
  limits.has_kernel_image = true;
  const std::size_t static_shared = std::max(training.sharedSizeBytes, evaluation.sharedSizeBytes);
  limits.shared_bytes_per_block =
      limits.shared_bytes_per_block > static_shared ? limits.shared_bytes_per_block - static_shared : 0;
  return limits;
}

// Why this build cannot train on a device of these limits, or "" when it can.
std::string unusable_reason(const DeviceLimits& limits) {
  const std::string capability = std::to_string(limits.compute_major) + "." + std::to_string(limits.compute_minor);
  if (!limits.has_kernel_image) {
    return "this build of hyperfuse holds no code for compute capability " + capability + " (it was built for " +
           architecture_names(built_architecture_list()) + "); rebuild it for this GPU: " + kCudaRebuildCommand;
  }
  if (limits.shared_bytes_per_block < kFusedMinimumSharedBytes) {
    return "it gives a block " + std::to_string(limits.shared_bytes_per_block) +
           " bytes of shared memory, and the fused kernels need at least " + std::to_string(kFusedMinimumSharedBytes);
  }
  return "";
}

// One pack on the device: its buffers and the primitives, each a fixed sequence of launches on
// the backend's stream, and the whole-epoch path through the fused kernels.
class CudaPack final : public PackWorkspace {
 public:
  CudaPack(const PackSpec& spec, int max_rows, const DeviceLimits& device, SharedStream shared_stream,
           cublasHandle_t cublas, ResidentRows& resident)
      : stream_(std::move(shared_stream)),
        ws(spec, max_rows, stream_.get(), cublas),
        resident_(resident),
        device_(device) {
    const cudaStream_t stream = stream_.get();
    ws.sizes = cuda_pack_sizes(spec, max_rows, device);
    const CudaPackSizes& sizes = ws.sizes;
    const std::size_t models = sizes.models;
    ws.parameters = DeviceBuffer<float>(sizes.parameters, stream);
    ws.state1 = DeviceBuffer<float>(sizes.parameters, stream);
    ws.state2 = DeviceBuffer<float>(sizes.parameters, stream);
    // A pack without a batch size has no fused plan: primitives are all it runs.
    if (sizes.fused.layers.empty()) ws.need_step_buffers();
    ws.losses = DeviceBuffer<double>(models, stream);
    ws.losses.fill_bytes(0, stream);
    ws.loss_sums = DeviceBuffer<double>(models, stream);
    ws.loss_sums.fill_bytes(0, stream);
    ws.first_nonfinite_loss_step = DeviceBuffer<std::int64_t>(models, stream);
    ws.first_nonfinite_loss_step.fill_bytes(0xFF, stream);  // every byte 0xFF: -1
    ws.nonfinite_parameters = DeviceBuffer<std::uint8_t>(models, stream);
    ws.nonfinite_parameters.fill_bytes(0, stream);
    ws.confusion = DeviceBuffer<long long>(models * 4);
    ws.confusion.fill_bytes(0, stream);
    ws.scalars = DeviceBuffer<OptimizerStep>(models, stream);

    ws.activation_codes = per_network<std::uint8_t>(
        spec, stream, [](const PackMember& m) { return static_cast<std::uint8_t>(m.activation); });
    ws.loss_codes =
        per_network<std::uint8_t>(spec, stream, [](const PackMember& m) { return static_cast<std::uint8_t>(m.loss); });
    ws.optimizer_codes = per_network<std::uint8_t>(
        spec, stream, [](const PackMember& m) { return static_cast<std::uint8_t>(m.optimizer); });
    ws.dropout = per_network<float>(spec, stream, [](const PackMember& m) { return static_cast<float>(m.dropout); });
    ws.keep_scale = per_network<float>(spec, stream, [](const PackMember& m) { return dropout_keep_scale(m.dropout); });
    ws.l1 = per_network<float>(spec, stream, [](const PackMember& m) { return static_cast<float>(m.l1); });
    ws.seeds = per_network<std::uint64_t>(spec, stream, [](const PackMember& m) { return m.seed; });
    ws.learning_rates = per_network<double>(spec, stream, [](const PackMember& m) { return m.learning_rate; });
    ws.weight_decays = per_network<double>(spec, stream, [](const PackMember& m) { return m.l2; });
    ws.max_epochs = per_network<int>(spec, stream, [](const PackMember& m) { return m.max_epochs; });
    ws.fused = sizes.fused;
    const std::vector<FusedLayerView> views = fused_layer_views(sizes.fused, spec.layout);
    ws.layer_views = DeviceBuffer<FusedLayerView>(views.size(), stream);
    ws.layer_views.upload(views.data(), views.size(), stream);
    ws.fused_scratch = DeviceBuffer<float>(sizes.fused_scratch, stream);

    ws.active_host.assign(models, 1);
    ws.active = DeviceBuffer<std::uint8_t>(models, stream);
    ws.active.upload(ws.active_host.data(), models, stream);
    if (models > 0) ws.runs.push_back({0, static_cast<int>(models)});
    for (const PackMember& m : spec.members) {
      ws.any_prelu = ws.any_prelu || m.activation == Activation::PReLU;
      ws.any_row_activation = ws.any_row_activation || is_row_activation(m.activation);
      ws.any_l1 = ws.any_l1 || m.l1 > 0.0;
    }
    ws.synchronize();
  }

  std::size_t allocated_bytes() const override {
    std::size_t bytes = ws.parameters.bytes() + ws.gradients.bytes() + ws.state1.bytes() + ws.state2.bytes() +
                        ws.batch_x.bytes() + ws.batch_y.bytes() + ws.losses.bytes() + ws.loss_sums.bytes() +
                        ws.first_nonfinite_loss_step.bytes() + ws.nonfinite_parameters.bytes() + ws.confusion.bytes() +
                        ws.scalars.bytes() + ws.activation_codes.bytes() + ws.loss_codes.bytes() +
                        ws.optimizer_codes.bytes() + ws.active.bytes() + ws.dropout.bytes() + ws.keep_scale.bytes() +
                        ws.l1.bytes() + ws.seeds.bytes() + ws.learning_rates.bytes() + ws.weight_decays.bytes() +
                        ws.max_epochs.bytes() + ws.layer_views.bytes() + ws.fused_scratch.bytes();
    for (const auto* buffers : {&ws.z, &ws.y, &ws.output, &ws.g})
      for (const DeviceBuffer<float>& b : *buffers) bytes += b.bytes();
    return bytes;
  }

  void write_parameters(const float* parameters) override {
    ws.parameters.upload(parameters, ws.parameters.size(), ws.stream);
    if (ws.step_buffers) ws.gradients.fill_bytes(0, ws.stream);
    ws.state1.fill_bytes(0, ws.stream);
    ws.state2.fill_bytes(0, ws.stream);
    ws.synchronize();
  }

  void read_parameters(float* parameters) override {
    ws.parameters.download(parameters, ws.parameters.size(), ws.stream);
    ws.synchronize();
  }

  void read_training_state(float* parameters, float* first_state, float* second_state) override {
    ws.parameters.download(parameters, ws.parameters.size(), ws.stream);
    ws.state1.download(first_state, ws.state1.size(), ws.stream);
    ws.state2.download(second_state, ws.state2.size(), ws.stream);
    ws.synchronize();
  }

  void write_training_state(const float* parameters, const float* first_state, const float* second_state) override {
    ws.parameters.upload(parameters, ws.parameters.size(), ws.stream);
    if (ws.step_buffers) ws.gradients.fill_bytes(0, ws.stream);
    ws.state1.upload(first_state, ws.state1.size(), ws.stream);
    ws.state2.upload(second_state, ws.state2.size(), ws.stream);
    ws.synchronize();
  }

  void read_gradients(float* gradients) override {
    ws.need_step_buffers();
    ws.gradients.download(gradients, ws.gradients.size(), ws.stream);
    ws.synchronize();
  }

  void write_gradients(const float* gradients) override {
    ws.need_step_buffers();
    ws.gradients.upload(gradients, ws.gradients.size(), ws.stream);
    ws.synchronize();
  }

  std::vector<float> read_losses() override {
    std::vector<double> losses(ws.models());
    ws.losses.download(losses.data(), losses.size(), ws.stream);
    ws.synchronize();
    return std::vector<float>(losses.begin(), losses.end());
  }

  std::vector<NetworkHealth> read_health() override {
    std::vector<std::int64_t> first(ws.models());
    std::vector<std::uint8_t> nonfinite(ws.models());
    ws.first_nonfinite_loss_step.download(first.data(), first.size(), ws.stream);
    ws.nonfinite_parameters.download(nonfinite.data(), nonfinite.size(), ws.stream);
    ws.synchronize();
    std::vector<NetworkHealth> health(ws.models());
    for (int m = 0; m < ws.models(); ++m) {
      health[m].first_nonfinite_loss_step = first[m];
      health[m].nonfinite_parameters = nonfinite[m] != 0;
    }
    return health;
  }

  std::vector<ConfusionCounts> read_confusion() override {
    std::vector<long long> counts(ws.confusion.size());
    ws.confusion.download(counts.data(), counts.size(), ws.stream);
    ws.synchronize();
    std::vector<ConfusionCounts> result(ws.models());
    for (int m = 0; m < ws.models(); ++m) {
      result[m].tp = counts[4 * m + 0];
      result[m].fp = counts[4 * m + 1];
      result[m].fn = counts[4 * m + 2];
      result[m].tn = counts[4 * m + 3];
    }
    return result;
  }

  void read_layer(int layer, LayerBuffer which, int rows, float* values) override {
    ws.need_step_buffers();
    copy_layer(rows, layer, [&](std::size_t width_bytes, std::size_t pitch) {
      HF_CUDA_CHECK(cudaMemcpy2DAsync(values, width_bytes, ws.buffer(which, layer), pitch, width_bytes, ws.models(),
                                      cudaMemcpyDeviceToHost, ws.stream));
    });
    ws.synchronize();
  }

  // Writing a hidden layer's activation also writes the output the next layer reads, as if
  // dropout kept every element (op tests write activations, then run the next layer).
  void write_layer(int layer, LayerBuffer which, int rows, const float* values) override {
    ws.need_step_buffers();
    std::vector<float*> targets{ws.buffer(which, layer)};
    if (which == LayerBuffer::Activation && ws.hidden(layer)) targets.push_back(ws.output[layer].data());
    for (float* target : targets) {
      copy_layer(rows, layer, [&](std::size_t width_bytes, std::size_t pitch) {
        HF_CUDA_CHECK(cudaMemcpy2DAsync(target, pitch, values, width_bytes, width_bytes, ws.models(),
                                        cudaMemcpyHostToDevice, ws.stream));
      });
    }
    ws.synchronize();
  }

  void poison() override {
    ws.need_step_buffers();
    for (auto* buffers : {&ws.z, &ws.y, &ws.output, &ws.g})
      for (DeviceBuffer<float>& b : *buffers) b.fill_bytes(0xFF, ws.stream);  // all bits set: NaN
    ws.gradients.fill_bytes(0xFF, ws.stream);
    ws.synchronize();
  }

  void load_batch(const float* features, const float* labels, int rows) override {
    ws.need_step_buffers();
    if (rows > ws.max_rows) throw std::logic_error("load_batch: more rows than the workspace holds");
    // Pageable host memory: the copy is staged before cudaMemcpyAsync returns, so the caller
    // may reuse its buffers at once; stream order keeps it after the kernels reading the
    // previous batch.
    ws.batch_x.upload(features, static_cast<std::size_t>(rows) * ws.layout().in(0), ws.stream);
    ws.batch_y.upload(labels, static_cast<std::size_t>(rows), ws.stream);
  }

  void linear_forward(int layer, const StepInfo& info) override {
    ws.need_step_buffers();
    ws.use_active(info);
    const ParameterLayout& L = ws.layout();
    for (const NetworkRun& run : ws.runs) {
      const GemmShape s = ws.shape(layer, info.rows, run);
      gemm_forward(ws.cublas, s, ws.parameters.data() + run.begin * L.size + L.weight_offset[layer],
                   ws.input(layer, run.begin).first, ws.z[layer].data() + run.begin * ws.block(layer));
    }
  }

  void bias_activation_dropout(int layer, const StepInfo& info) override {
    ws.need_step_buffers();
    ws.use_active(info);
    launch_bias_activation_dropout(ws.view(), ws.layer_view(layer), ws.parameters.data(), info.rows,
                                   info.mode == Mode::Training, info.step, ws.any_row_activation, ws.stream);
  }

  void output_loss_gradient(const StepInfo& info) override {
    ws.need_step_buffers();
    ws.use_active(info);
    const int last = ws.layout().layers() - 1;
    launch_output_loss_gradient(ws.view(), ws.y[last].data(), ws.batch_y.data(), info.rows,
                                1.0f / static_cast<float>(info.rows), ws.g[last].data(), ws.losses.data(),
                                ws.gradients.data(), ws.stream);
  }

  void linear_backward(int layer, const StepInfo& info) override {
    ws.need_step_buffers();
    ws.use_active(info);
    const ParameterLayout& L = ws.layout();
    for (const NetworkRun& run : ws.runs) {
      const GemmShape s = ws.shape(layer, info.rows, run);
      const float* gradient = ws.g[layer].data() + run.begin * ws.block(layer);
      gemm_weight_gradient(ws.cublas, s, ws.input(layer, run.begin).first, gradient,
                           ws.gradients.data() + run.begin * L.size + L.weight_offset[layer]);
      if (layer > 0) {
        // The gradient at the previous layer's output (after dropout).
        gemm_input_gradient(ws.cublas, s, ws.parameters.data() + run.begin * L.size + L.weight_offset[layer], gradient,
                            ws.g[layer - 1].data() + run.begin * ws.block(layer - 1));
      }
    }
    launch_bias_gradient(ws.view(), ws.g[layer].data(), L.out(layer), info.rows, L.bias_offset[layer],
                         ws.gradients.data(), ws.stream);
  }

  void activation_backward(int layer, const StepInfo& info) override {
    ws.need_step_buffers();
    ws.use_active(info);
    launch_activation_backward(ws.view(), ws.layer_view(layer), ws.parameters.data(), ws.gradients.data(), info.rows,
                               info.mode == Mode::Training, info.step, ws.any_prelu, ws.any_row_activation, ws.stream);
  }

  void l1_penalty(const StepInfo& info) override {
    if (!ws.any_l1) return;
    ws.need_step_buffers();
    ws.use_active(info);
    launch_l1_penalty(ws.view(), ws.parameters.data(), ws.gradients.data(), ws.losses.data(), ws.stream);
  }

  void check_loss(const StepInfo& info) override {
    ws.use_active(info);
    launch_check_loss(ws.view(), ws.losses.data(), info.step, ws.first_nonfinite_loss_step.data(), ws.stream);
  }

  void accumulate_loss(const StepInfo& info) override {
    ws.use_active(info);
    launch_accumulate_losses(ws.view(), ws.losses.data(), ws.loss_sums.data(), ws.stream);
  }

  std::vector<double> take_loss_sums() override {
    std::vector<double> sums(ws.models());
    ws.loss_sums.download(sums.data(), sums.size(), ws.stream);
    ws.loss_sums.fill_bytes(0, ws.stream);  // stream order: after the download
    ws.synchronize();
    return sums;
  }

  void optimizer_step(const StepInfo& info, const std::vector<OptimizerStep>& scalars) override {
    ws.need_step_buffers();
    ws.use_active(info);
    ws.scalars.upload(scalars.data(), static_cast<std::size_t>(ws.models()), ws.stream);
    launch_optimizer_step(ws.view(), ws.parameters.data(), ws.gradients.data(), ws.state1.data(), ws.state2.data(),
                          ws.scalars.data(), ws.stream);
    HF_COUNT_TRAINING_STEPS(std::count(ws.active_host.begin(), ws.active_host.end(), std::uint8_t{1}));
  }

  void check_parameters() override {
    launch_check_parameters(ws.view(), ws.parameters.data(), ws.nonfinite_parameters.data(), ws.stream);
  }

  void reset_confusion() override { ws.confusion.fill_bytes(0, ws.stream); }

  void count_confusion(const StepInfo& info, float threshold) override {
    ws.need_step_buffers();
    ws.use_active(info);
    const int last = ws.layout().layers() - 1;
    launch_count_confusion(ws.view(), ws.y[last].data(), ws.batch_y.data(), info.rows, threshold, ws.confusion.data(),
                           ws.stream);
  }

  bool load_training_rows(const RowsView& train) override {
    if (ws.fused.layers.empty()) return false;  // no batch size: primitives only
    train_ = resident_.rows(train, ws.stream);
    orders_seed_valid_ = false;
    return true;
  }

  bool train_epoch(const EpochRequest& request) override {
    if (train_.x == nullptr) return false;  // no load_training_rows yet
    const int batch = std::min(ws.spec.batch_size, train_.rows);
    const int steps = batch > 0 ? (train_.rows + batch - 1) / batch : 0;
    FusedRows rows = train_;
    if (request.shuffle) {
      // Every epoch's order at the pack's first shuffled epoch, in one launch.
      int epochs = 0;
      for (const PackMember& m : ws.spec.members) epochs = std::max(epochs, m.max_epochs);
      epochs = std::max(epochs, request.epoch + 1);
      const std::size_t count = static_cast<std::size_t>(epochs) * static_cast<std::size_t>(train_.rows);
      if (!orders_seed_valid_ || orders_seed_ != request.order_seed || orders_epochs_ < epochs) {
        orders_ = resident_.orders(count);
        launch_epoch_orders(train_.rows, request.order_seed, epochs, orders_, ws.stream);
        orders_seed_ = request.order_seed;
        orders_epochs_ = epochs;
        orders_seed_valid_ = true;
      }
      rows.order = orders_ + static_cast<std::size_t>(request.epoch) * static_cast<std::size_t>(train_.rows);
    }
    // The epoch in launches of at most `per_launch` steps, in order on the pack's stream: the state
    // between them stays on the device, and each launch stays short (display GPUs' watchdog,
    // GPUs shared with other work).
    const int per_launch =
        request.max_steps_per_launch > 0 ? request.max_steps_per_launch : planned_launch_steps(steps);
    for (int done = 0; done < steps; done += per_launch) {
      launch_fused_epoch(ws.fused_shape(), ws.fused_networks(), ws.fused_state(), rows, request.epoch,
                         static_cast<long long>(request.first_step) + done, done, std::min(per_launch, steps - done),
                         ws.stream);
    }
    return true;
  }

  bool evaluate(const RowsView& view, float threshold, const std::uint8_t* active, bool positives,
                EvaluationResult& result) override {
    if (ws.fused.layers.empty()) return false;
    const FusedRows rows = resident_.rows(view, ws.stream);
    ws.set_active(active);
    const std::size_t words = (static_cast<std::size_t>(rows.rows) + 31) / 32;
    const std::size_t all_words = words * static_cast<std::size_t>(ws.models());
    FusedEvaluation evaluation;
    evaluation.threshold = threshold;
    evaluation.active = ws.active.data();
    evaluation.counts = ws.confusion.data();
    evaluation.positives = resident_.positives(std::max<std::size_t>(all_words, 1));
    evaluation.words = static_cast<int>(words);
    if (all_words > 0) HF_CUDA_CHECK(cudaMemsetAsync(evaluation.positives, 0, all_words * sizeof(unsigned), ws.stream));
    ws.confusion.fill_bytes(0, ws.stream);
    launch_fused_evaluation(ws.fused_shape(), ws.fused_networks(), ws.fused_state(), rows, evaluation, ws.stream);
    result.counts = read_confusion();  // synchronises
    result.positive_words.clear();
    if (positives) {
      std::vector<unsigned> bits(all_words);
      if (all_words > 0) {
        HF_CUDA_CHECK(cudaMemcpyAsync(bits.data(), evaluation.positives, all_words * sizeof(unsigned),
                                      cudaMemcpyDeviceToHost, ws.stream));
        ws.synchronize();
      }
      // Two 32-bit words make one 64-bit word of RowBitset's layout, network by network.
      const std::size_t words64 = (static_cast<std::size_t>(rows.rows) + 63) / 64;
      result.positive_words.assign(words64 * static_cast<std::size_t>(ws.models()), 0);
      for (int m = 0; m < ws.models(); ++m) {
        const unsigned* from = bits.data() + static_cast<std::size_t>(m) * words;
        std::uint64_t* to = result.positive_words.data() + static_cast<std::size_t>(m) * words64;
        for (std::size_t w = 0; w < words; ++w) to[w / 2] |= static_cast<std::uint64_t>(from[w]) << (32 * (w % 2));
      }
    }
    return true;
  }

 private:
  // Calls copy(row bytes of one network, device pitch between networks) for `rows` rows.
  template <typename F>
  void copy_layer(int rows, int layer, F&& copy) {
    if (rows > ws.max_rows) throw std::logic_error("read_layer/write_layer: more rows than the workspace holds");
    const std::size_t width_bytes = static_cast<std::size_t>(rows) * ws.layout().out(layer) * sizeof(float);
    if (width_bytes == 0 || ws.models() == 0) return;
    copy(width_bytes, ws.block(layer) * sizeof(float));
  }

  // The stream the buffers are allocated and freed in (stream-ordered), kept alive until they are
  // freed, after the backend that made it if need be: declared before them, destroyed after.
  SharedStream stream_;

  // The steps per launch that keep a launch within kLaunchTargetSeconds in the cost model, for the
  // pack's slowest network on this device (planned once: the pack and the device stay).
  int planned_launch_steps(int steps_in_epoch) {
    if (planned_launch_steps_ == 0)
      planned_launch_steps_ = launch_steps(ws.fused, ws.spec, device_, std::numeric_limits<int>::max());
    return std::min(planned_launch_steps_, std::max(steps_in_epoch, 1));
  }

  PackBuffers ws;
  ResidentRows& resident_;
  DeviceLimits device_;  // the device's figures, for the launch plan
  int planned_launch_steps_ = 0;
  FusedRows train_;  // the training rows on the device, after load_training_rows
  int* orders_ = nullptr;
  std::uint64_t orders_seed_ = 0;
  int orders_epochs_ = 0;
  bool orders_seed_valid_ = false;
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
    try {
      HF_CUDA_CHECK(cudaSetDevice(device_));
      limits_ = current_device_limits(device_);
      if (const std::string why = unusable_reason(limits_); !why.empty())
        throw DeviceError(device_text(device_) + " cannot train: " + why);
      cudaStream_t stream = nullptr;
      HF_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
      stream_ = SharedStream(stream, [](cudaStream_t s) { cudaStreamDestroy(s); });
      HF_CUBLAS_CHECK(cublasCreate(&cublas_));
      HF_CUBLAS_CHECK(cublasSetStream(cublas_, stream_.get()));
      HF_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));  // FP32, no TF32
    } catch (...) {
      release();  // a constructor that throws runs no destructor: free the stream and handle here
      throw;
    }
  }
  ~CudaBackend() override { release(); }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  const char* name() const override { return "cuda"; }
  std::string device() const override { return "cuda:" + std::to_string(device_); }

  std::unique_ptr<PackWorkspace> create_workspace(const PackSpec& spec, int max_rows) override {
    HF_CUDA_CHECK(cudaSetDevice(device_));
    return std::make_unique<CudaPack>(spec, max_rows, limits_, stream_, cublas_, resident_);
  }

 private:
  void release() noexcept {
    if (cublas_ != nullptr) cublasDestroy(cublas_);
    cublas_ = nullptr;
    stream_.reset();  // destroyed once no workspace holds it either
  }

  int device_ = 0;
  DeviceLimits limits_;  // read once: the plan of every pack this backend trains
  SharedStream stream_;
  cublasHandle_t cublas_ = nullptr;
  ResidentRows resident_;  // the data sets and data-sized scratch of every pack this backend trains
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device) { return std::make_unique<CudaBackend>(device); }

std::string cuda_backend_description() {
#if HYPERFUSE_CUDA_EMULATED
  return "CUDA emulated on the host (tests/cuda_emulation: checks, no speed), for " + cuda_built_architectures();
#else
  return "CUDA for " + cuda_built_architectures() + ", cuBLAS " + std::to_string(CUBLAS_VER_MAJOR) + "." +
         std::to_string(CUBLAS_VER_MINOR) + "." + std::to_string(CUBLAS_VER_PATCH);
#endif
}

bool cuda_backend_is_emulated() {
#if HYPERFUSE_CUDA_EMULATED
  return true;
#else
  return false;
#endif
}

bool cuda_backend_chosen_by_auto() {
#if HYPERFUSE_CUDA_EMULATED
  // An emulated GPU is for tests; HYPERFUSE_EMU_CHOSEN_BY_AUTO=1 lets the tests of device = "auto"
  // see it as a real GPU (tests/cuda_emulation/README.md).
  const char* chosen = std::getenv("HYPERFUSE_EMU_CHOSEN_BY_AUTO");
  return chosen != nullptr && std::string(chosen) == "1";
#else
  return true;
#endif
}

namespace {

// "12.8" for 12080.
std::string cuda_version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

constexpr const char* kCpuInstead = "or run on the CPU with --device cpu ([execution] device = \"cpu\")";

}  // namespace

int cuda_device_count() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaSuccess) return count;
  cudaGetLastError();  // not sticky: clear it so later queries work
  if (status == cudaErrorNoDevice) return 0;
  int driver = 0;
  if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0;
  // The runtime reports a missing driver as an insufficient one; with no driver at all (version 0)
  // this is a machine without an NVIDIA GPU, not a broken one.
  if (status == cudaErrorInsufficientDriver && driver == 0) return 0;
  const std::string code = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
  if (status == cudaErrorInsufficientDriver) {
    throw DeviceError("CUDA cannot start: the NVIDIA driver supports CUDA up to " + cuda_version_text(driver) +
                      ", but this build of hyperfuse needs CUDA " + cuda_version_text(CUDART_VERSION) + " (" + code +
                      "); update the NVIDIA driver, " + kCpuInstead);
  }
  if (status == cudaErrorCompatNotSupportedOnDevice || status == cudaErrorSystemDriverMismatch) {
    throw DeviceError("CUDA cannot start: the NVIDIA driver (CUDA " + cuda_version_text(driver) +
                      ") cannot run this CUDA " + cuda_version_text(CUDART_VERSION) + " build on this machine (" +
                      code +
                      "; a forward-compatibility package on an unsupported GPU, or a driver library and kernel module "
                      "of different versions); install a matching NVIDIA driver, " +
                      kCpuInstead);
  }
  throw DeviceError("CUDA cannot start: cudaGetDeviceCount failed (" + code +
                    "); check the GPU and its driver with nvidia-smi, " + kCpuInstead);
}

std::string cuda_built_architectures() { return architecture_names(built_architecture_list()); }

CudaDeviceMemory cuda_device_memory(int device) {
  // Queried on a thread of its own: the current device is per thread, so the caller's stays as
  // it was without setting it back. Setting it back created the primary context (hundreds of
  // MB) on the caller's device, device 0 by default, in every process that asked about another
  // GPU (every MPI rank of a node, whatever its GPU), and an exception left it changed.
  CudaDeviceMemory memory;
  std::exception_ptr failure;
  std::thread query([&] {
    try {
      cudaDeviceProp properties{};
      HF_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
      memory.name = properties.name;
      memory.networks_at_once = properties.multiProcessorCount * kFusedBlocksPerMultiprocessor;
      HF_CUDA_CHECK(cudaSetDevice(device));
      HF_CUDA_CHECK(cudaMemGetInfo(&memory.free_bytes, &memory.total_bytes));
      memory.limits = current_device_limits(device);
      memory.unusable = unusable_reason(memory.limits);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  query.join();
  if (failure) std::rethrow_exception(failure);
  return memory;
}

double cuda_fp32_peak_flops(int device) {
  int multiprocessors = 0, clock_khz = 0;
  HF_CUDA_CHECK(cudaDeviceGetAttribute(&multiprocessors, cudaDevAttrMultiProcessorCount, device));
  HF_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
  return static_cast<double>(multiprocessors) * clock_khz * 1e3 * fp32_lanes_per_multiprocessor(device) * 2.0;
}

NetworkPlacement cuda_network_placement(const PackSpec& pack, int train_rows, const DeviceLimits& device) {
  const FusedPlan plan = fused_plan_of(pack, device);
  NetworkPlacement placement;
  placement.shared_bytes = plan.shared_bytes();
  placement.scratch_bytes = plan.global_words_per_network * sizeof(float);
  std::string weights, activations;
  const auto add = [](std::string& list, int layer) { list += (list.empty() ? "" : ", ") + std::to_string(layer + 1); };
  for (std::size_t l = 0; l < plan.layers.size(); ++l) {
    const FusedLayerPlan& p = plan.layers[l];
    if (p.weights.words > 0 && !p.weights.shared) add(weights, static_cast<int>(l));
    if ((p.pre_activation.words > 0 && !p.pre_activation.shared) || (p.output.words > 0 && !p.output.shared))
      add(activations, static_cast<int>(l));
  }
  std::vector<std::string> parts;
  const auto off_chip = [](const FusedPlacement& p) { return p.words > 0 && !p.shared; };
  if (!weights.empty()) parts.push_back("weights of layers " + weights);
  if (!activations.empty()) parts.push_back("activations of layers " + activations);
  if (off_chip(plan.batch_x[0]) || off_chip(plan.batch_x[1])) parts.push_back("the batch");
  if (off_chip(plan.tile_state)) parts.push_back("optimizer state of the weight tiles past the registers");
  if (off_chip(plan.bias_state)) parts.push_back("optimizer state of the biases");
  if (off_chip(plan.row_gradient) || off_chip(plan.row_activation)) parts.push_back("row-activation buffers");
  for (const FusedLayerPlan& p : plan.layers)
    if (off_chip(p.mask) || off_chip(p.biases)) {
      parts.push_back("dropout masks and biases");
      break;
    }
  for (const std::string& part : parts) placement.in_scratch += (placement.in_scratch.empty() ? "" : "; ") + part;
  // The launches of an epoch of `train_rows` rows, as train_epoch plans them for the pack's slowest
  // network (HYPERFUSE_MAX_STEPS_PER_LAUNCH aside).
  const int steps_in_epoch = train_rows > 0 ? (train_rows + pack.batch_size - 1) / pack.batch_size : 0;
  placement.launches_per_epoch = 0;
  if (steps_in_epoch > 0) {
    const int steps = launch_steps(plan, pack, device, steps_in_epoch);
    placement.launches_per_epoch = (steps_in_epoch + steps - 1) / steps;
  }
  return placement;
}

WorkspaceBytes cuda_workspace_bytes(const PackSpec& pack, int max_rows, const DeviceLimits& device) {
  const CudaPackSizes sizes = cuda_pack_sizes(pack, max_rows, device);
  WorkspaceBytes bytes;
  // Parameters and the two optimizer states; the fused kernels' scratch.
  bytes.parameters = 3 * sizes.parameters * sizeof(float);
  bytes.activations = sizes.fused_scratch * sizeof(float);
  bytes.other = sizes.models * kPerNetworkArrayBytes + sizes.layer_views * sizeof(FusedLayerView);
  // The step-by-step buffers, allocated at once only for a pack without a fused plan.
  if (sizes.fused.layers.empty()) {
    bytes.parameters += sizes.parameters * sizeof(float);
    for (std::size_t l = 0; l < sizes.layer.size(); ++l)
      bytes.activations += (3 * sizes.layer[l] + sizes.output[l]) * sizeof(float);
    bytes.other += (sizes.batch_x + sizes.batch_y) * sizeof(float);
  }
  return bytes;
}

}  // namespace hf
