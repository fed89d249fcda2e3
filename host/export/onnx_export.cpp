#include "host/export/onnx_export.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <set>
#include <stdexcept>

#include "host/common/number_format.hpp"
#include "kernels/backend/parameter_layout.hpp"
#include "kernels/math/activations.hpp"

#ifndef HYPERFUSE_VERSION
#define HYPERFUSE_VERSION "unknown"
#endif

namespace hf {
namespace {

// Builds the graph node by node: constant tensors as initializers, each once, and node outputs
// with unique names.
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto& graph) : graph_(graph) {}

  // A node `op` on `inputs`; returns its (first) output's name, `name` made unique.
  std::string node(const std::string& op, const std::vector<std::string>& inputs, const std::string& name,
                   const std::vector<std::pair<std::string, float>>& float_attributes = {},
                   const std::vector<std::pair<std::string, std::int64_t>>& int_attributes = {}) {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(op);
    const std::string output = unique(name);
    n->set_name(output);
    for (const std::string& input : inputs) n->add_input(input);
    n->add_output(output);
    for (const auto& [key, value] : float_attributes) {
      onnx::AttributeProto* a = n->add_attribute();
      a->set_name(key);
      a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
      a->set_f(value);
    }
    for (const auto& [key, value] : int_attributes) {
      onnx::AttributeProto* a = n->add_attribute();
      a->set_name(key);
      a->set_type(onnx::AttributeProto_AttributeType_INT);
      a->set_i(value);
    }
    return output;
  }

  // A float32 tensor of `dims` holding `values`.
  std::string floats(const std::string& name, const std::vector<std::int64_t>& dims, const float* values,
                     std::size_t count) {
    onnx::TensorProto* t = initializer(name, onnx::TensorProto_DataType_FLOAT, dims);
    for (std::size_t i = 0; i < count; ++i) t->add_float_data(values[i]);
    return t->name();
  }

  std::string doubles(const std::string& name, const std::vector<double>& values) {
    onnx::TensorProto* t =
        initializer(name, onnx::TensorProto_DataType_DOUBLE, {static_cast<std::int64_t>(values.size())});
    for (double v : values) t->add_double_data(v);
    return t->name();
  }

  // A float32 scalar constant, shared by every node that uses the same value.
  std::string scalar(float value) {
    const std::string name = "constant_" + python_float_repr(value);
    if (names_.count(name) == 0) floats(name, {}, &value, 1);
    return name;
  }

  std::string int64s(const std::string& name, const std::vector<std::int64_t>& values) {
    onnx::TensorProto* t =
        initializer(name, onnx::TensorProto_DataType_INT64, {static_cast<std::int64_t>(values.size())});
    for (std::int64_t v : values) t->add_int64_data(v);
    return t->name();
  }

 private:
  onnx::TensorProto* initializer(const std::string& name, int type, const std::vector<std::int64_t>& dims) {
    onnx::TensorProto* t = graph_.add_initializer();
    t->set_name(unique(name));
    t->set_data_type(type);
    for (std::int64_t d : dims) t->add_dims(d);
    return t;
  }

  std::string unique(const std::string& name) {
    std::string candidate = name;
    for (int k = 2; names_.count(candidate) != 0; ++k) candidate = name + "_" + std::to_string(k);
    names_.insert(candidate);
    return candidate;
  }

  onnx::GraphProto& graph_;
  std::set<std::string> names_;
};

// The activation of a hidden layer on `x`, in ONNX operators; `prelu_slope` is the network's
// learned PReLU slope. Every activation hyperfuse trains has a case.
std::string activation(GraphBuilder& g, Activation a, const std::string& x, const std::string& name,
                       float prelu_slope) {
  using A = Activation;
  switch (a) {
    case A::ELU:
    case A::CELU:  // alpha = 1 makes CELU equal to ELU
      return g.node("Elu", {x}, name, {{"alpha", 1.0f}});
    case A::SELU: return g.node("Selu", {x}, name, {{"alpha", kSeluAlpha}, {"gamma", kSeluScale}});
    case A::Hardshrink: return g.node("Shrink", {x}, name, {{"lambd", kShrinkLambda}, {"bias", 0.0f}});
    case A::Softshrink: return g.node("Shrink", {x}, name, {{"lambd", kShrinkLambda}, {"bias", kShrinkLambda}});
    case A::Hardsigmoid:  // relu6(x + 3) / 6 = max(0, min(1, x / 6 + 1 / 2))
      return g.node("HardSigmoid", {x}, name, {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}});
    case A::Hardtanh: return g.node("Clip", {x, g.scalar(-1.0f), g.scalar(1.0f)}, name);
    case A::Hardswish: return g.node("HardSwish", {x}, name);
    case A::LeakyReLU: return g.node("LeakyRelu", {x}, name, {{"alpha", kLeakyReluSlope}});
    case A::LogSigmoid: {  // -softplus(-x), stable for large |x|
      const std::string negated = g.node("Neg", {x}, name + "_negated");
      return g.node("Neg", {g.node("Softplus", {negated}, name + "_softplus")}, name);
    }
    case A::PReLU: {
      const std::string slope = g.floats(name + "_slope", {1}, &prelu_slope, 1);
      return g.node("PRelu", {x, slope}, name);
    }
    case A::ReLU: return g.node("Relu", {x}, name);
    case A::ReLU6: return g.node("Clip", {x, g.scalar(0.0f), g.scalar(6.0f)}, name);
    case A::RReLU: return g.node("LeakyRelu", {x}, name, {{"alpha", kRreluEvalSlope}});
    case A::GELU: {  // x * (1 + erf(x / sqrt 2)) / 2, PyTorch's exact GELU
      const std::string scaled = g.node("Mul", {x, g.scalar(0.70710678118654752440f)}, name + "_scaled");
      const std::string erf = g.node("Erf", {scaled}, name + "_erf");
      const std::string cdf =
          g.node("Mul", {g.node("Add", {erf, g.scalar(1.0f)}, name + "_plus_one"), g.scalar(0.5f)}, name + "_cdf");
      return g.node("Mul", {x, cdf}, name);
    }
    case A::Sigmoid: return g.node("Sigmoid", {x}, name);
    case A::SiLU: return g.node("Mul", {x, g.node("Sigmoid", {x}, name + "_sigmoid")}, name);
    case A::Mish: {
      const std::string softplus = g.node("Softplus", {x}, name + "_softplus");
      return g.node("Mul", {x, g.node("Tanh", {softplus}, name + "_tanh")}, name);
    }
    case A::Softplus: return g.node("Softplus", {x}, name);
    case A::Softsign: return g.node("Softsign", {x}, name);
    case A::Tanh: return g.node("Tanh", {x}, name);
    case A::Tanhshrink: return g.node("Sub", {x, g.node("Tanh", {x}, name + "_tanh")}, name);
    case A::Softmin: return g.node("Softmax", {g.node("Neg", {x}, name + "_negated")}, name, {}, {{"axis", 1}});
    case A::Softmax: return g.node("Softmax", {x}, name, {}, {{"axis", 1}});
    case A::LogSoftmax: return g.node("LogSoftmax", {x}, name, {}, {{"axis", 1}});
  }
  // Only a code outside the enumeration gets here: the switch covers every activation.
  throw std::runtime_error("export: activation code " + std::to_string(static_cast<int>(a)) +
                           " is not one hyperfuse trains, so it has no ONNX form");
}

void tensor_type(onnx::ValueInfoProto* value, const std::string& name, int type, const std::vector<std::string>& dims) {
  value->set_name(name);
  onnx::TypeProto_Tensor* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(type);
  for (const std::string& d : dims) {
    onnx::TensorShapeProto_Dimension* dim = tensor->mutable_shape()->add_dim();
    if (!d.empty() && d.find_first_not_of("0123456789") == std::string::npos) {
      dim->set_dim_value(std::stoll(d));
    } else {
      dim->set_dim_param(d);
    }
  }
}

void metadata(onnx::ModelProto& model, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* entry = model.add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

// Rerun r's network as ONNX nodes, from the standardised features to its sigmoid probability.
std::string rerun_probability(GraphBuilder& g, const ParameterLayout& layout, const StoredEnsemble& ensemble,
                              std::size_t r, const std::string& standardised) {
  const std::string prefix = "rerun" + std::to_string(ensemble.reruns[r]) + "_";
  const std::vector<float>& p = ensemble.parameters[r];
  std::string x = standardised;
  for (int l = 0; l < layout.layers(); ++l) {
    const std::string layer = prefix + "layer" + std::to_string(l + 1);
    const std::string weight = g.floats(layer + "_weight", {layout.out(l), layout.in(l)},
                                        p.data() + layout.weight_offset[l], layout.weight_count(l));
    const std::string bias = g.floats(layer + "_bias", {layout.out(l)}, p.data() + layout.bias_offset[l],
                                      static_cast<std::size_t>(layout.out(l)));
    x = g.node("Gemm", {x, weight, bias}, layer, {}, {{"transB", 1}});
    if (l + 1 < layout.layers()) {
      x = activation(g, ensemble.activation, x, layer + "_" + kActivationNames[static_cast<int>(ensemble.activation)],
                     p[layout.prelu_offset]);
    }
  }
  return g.node("Sigmoid", {x}, prefix + "probability");
}

// The model, once onnx's checker and shape inference accept it, serialised.
std::string checked_bytes(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("export: onnx's checker refuses the model: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw std::runtime_error("export: cannot serialise the ONNX model");
  return bytes;
}

}  // namespace

std::string onnx_model(const StoredEnsemble& ensemble, const ModelInputs& inputs) {
  const ParameterLayout layout(ensemble.widths);
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("hyperfuse");
  model.set_producer_version(HYPERFUSE_VERSION);
  model.set_doc_string("hyperfuse model: rank " + std::to_string(ensemble.rank) + " of its search, the mean of " +
                       std::to_string(ensemble.parameters.size()) + " reruns' sigmoid outputs; buy when above " +
                       python_float_repr(inputs.prediction_threshold));
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  metadata(model, "rank", std::to_string(ensemble.rank));
  metadata(model, "median_p_value", python_float_repr(ensemble.p_value));
  metadata(model, "prediction_threshold", python_float_repr(inputs.prediction_threshold));
  metadata(model, "layer_widths", widths_text(ensemble.widths));
  for (const auto& [key, value] : ensemble.hyperparameters) metadata(model, key, value);

  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("hyperfuse_ensemble");
  GraphBuilder g(graph);
  const std::string n = std::to_string(layout.in(0));
  tensor_type(graph.add_input(), "features", onnx::TensorProto_DataType_FLOAT, {"rows", n});

  // Standardisation in double precision, as StandardScaler::transform, then float32.
  const std::string as_double =
      g.node("Cast", {"features"}, "features_double", {}, {{"to", onnx::TensorProto_DataType_DOUBLE}});
  const std::string centred = g.node("Sub", {as_double, g.doubles("scaler_mean", inputs.mean)}, "centred");
  const std::string standardised =
      g.node("Cast", {g.node("Div", {centred, g.doubles("scaler_scale", inputs.scale)}, "standardised_double")},
             "standardised", {}, {{"to", onnx::TensorProto_DataType_FLOAT}});

  std::vector<std::string> probabilities;
  for (std::size_t r = 0; r < ensemble.parameters.size(); ++r)
    probabilities.push_back(rerun_probability(g, layout, ensemble, r, standardised));
  const std::string mean = g.node("Mean", probabilities, "mean_probability");
  g.node("Squeeze", {mean, g.int64s("output_axis", {1})}, "probability");
  g.node("Greater", {"probability", g.scalar(static_cast<float>(inputs.prediction_threshold))}, "buy");
  tensor_type(graph.add_output(), "probability", onnx::TensorProto_DataType_FLOAT, {"rows"});
  tensor_type(graph.add_output(), "buy", onnx::TensorProto_DataType_BOOL, {"rows"});

  return checked_bytes(model);
}

}  // namespace hf
