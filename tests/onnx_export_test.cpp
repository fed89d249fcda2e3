// The ONNX export for every activation: the model passes onnx's checker, and a small evaluator
// written here from the ONNX operator definitions (in double precision) computes from the file
// what hyperfuse's CPU forward pass computes for the same networks: the standardisation, each
// rerun's layers and activation, the sigmoid, the mean over the reruns and the threshold.
// (tests/predict_command_test.cpp holds the export to predict in onnxruntime as well.)
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <functional>
#include <map>

#include "host/common/random.hpp"
#include "host/export/onnx_export.hpp"
#include "host/predict/ensemble_forward.hpp"
#include "kernels/backend/parameter_layout.hpp"

namespace hf {
namespace {

// A tensor while the graph is evaluated: values in double, row-major.
struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};

std::size_t element_count(const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (std::int64_t d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

Tensor from_initializer(const onnx::TensorProto& t) {
  Tensor out;
  out.shape.assign(t.dims().begin(), t.dims().end());
  for (float v : t.float_data()) out.values.push_back(v);
  for (double v : t.double_data()) out.values.push_back(v);
  for (std::int64_t v : t.int64_data()) out.values.push_back(static_cast<double>(v));
  EXPECT_EQ(out.values.size(), element_count(out.shape)) << t.name();
  return out;
}

// Numpy broadcasting of two tensors of rank <= 2.
Tensor broadcast(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  const std::size_t rank = std::max(a.shape.size(), b.shape.size());
  std::vector<std::int64_t> sa(rank - a.shape.size(), 1), sb(rank - b.shape.size(), 1), shape(rank);
  sa.insert(sa.end(), a.shape.begin(), a.shape.end());
  sb.insert(sb.end(), b.shape.begin(), b.shape.end());
  for (std::size_t d = 0; d < rank; ++d) {
    EXPECT_TRUE(sa[d] == sb[d] || sa[d] == 1 || sb[d] == 1) << "shapes do not broadcast";
    shape[d] = std::max(sa[d], sb[d]);
  }
  Tensor out{shape, std::vector<double>(element_count(shape))};
  const std::int64_t columns = rank == 2 ? shape[1] : (rank == 1 ? shape[0] : 1);
  for (std::size_t i = 0; i < out.values.size(); ++i) {
    const std::int64_t row = rank == 2 ? static_cast<std::int64_t>(i) / columns : 0;
    const std::int64_t column = rank == 0 ? 0 : static_cast<std::int64_t>(i) % columns;
    const auto index = [&](const std::vector<std::int64_t>& s) {
      if (rank == 0) return std::size_t{0};
      const std::int64_t c = s[rank - 1] == 1 ? 0 : column;
      const std::int64_t r = rank == 2 && s[0] != 1 ? row : 0;
      return static_cast<std::size_t>(r * s[rank - 1] + c);
    };
    out.values[i] = f(a.values[index(sa)], b.values[index(sb)]);
  }
  return out;
}

Tensor map(const Tensor& x, const std::function<double(double)>& f) {
  Tensor out = x;
  for (double& v : out.values) v = f(v);
  return out;
}

float float_attribute(const onnx::NodeProto& node, const std::string& name, float fallback) {
  for (const onnx::AttributeProto& a : node.attribute())
    if (a.name() == name) return a.f();
  return fallback;
}

std::int64_t int_attribute(const onnx::NodeProto& node, const std::string& name, std::int64_t fallback) {
  for (const onnx::AttributeProto& a : node.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

double round_to_float(double v) { return static_cast<double>(static_cast<float>(v)); }

// Softmax or LogSoftmax along axis 1 of a 2-D tensor.
Tensor softmax_rows(const Tensor& x, bool logarithm) {
  Tensor out = x;
  const std::int64_t width = x.shape[1];
  for (std::size_t start = 0; start < x.values.size(); start += static_cast<std::size_t>(width)) {
    double largest = x.values[start], sum = 0.0;
    for (std::int64_t c = 0; c < width; ++c) largest = std::max(largest, x.values[start + c]);
    for (std::int64_t c = 0; c < width; ++c) sum += std::exp(x.values[start + c] - largest);
    for (std::int64_t c = 0; c < width; ++c) {
      const double shifted = x.values[start + c] - largest;
      out.values[start + c] = logarithm ? shifted - std::log(sum) : std::exp(shifted) / sum;
    }
  }
  return out;
}

// Evaluates `model` on `features` (rows x n, rounded to float32 as the input is declared).
std::map<std::string, Tensor> evaluate(const onnx::ModelProto& model, const Tensor& features) {
  std::map<std::string, Tensor> values;
  for (const onnx::TensorProto& t : model.graph().initializer()) values[t.name()] = from_initializer(t);
  values["features"] = map(features, round_to_float);
  for (const onnx::NodeProto& node : model.graph().node()) {
    std::vector<Tensor> in;
    for (const std::string& name : node.input()) {
      EXPECT_EQ(values.count(name), 1u) << node.op_type() << " reads " << name << " before it exists";
      in.push_back(values[name]);
    }
    const std::string& op = node.op_type();
    Tensor out;
    if (op == "Cast") {
      const std::int64_t to = int_attribute(node, "to", 0);
      out = to == onnx::TensorProto_DataType_FLOAT ? map(in[0], round_to_float) : in[0];
    } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Greater" || op == "PRelu") {
      const std::map<std::string, std::function<double(double, double)>> binary = {
          {"Add", [](double a, double b) { return a + b; }},
          {"Sub", [](double a, double b) { return a - b; }},
          {"Mul", [](double a, double b) { return a * b; }},
          {"Div", [](double a, double b) { return a / b; }},
          {"Greater", [](double a, double b) { return a > b ? 1.0 : 0.0; }},
          {"PRelu", [](double x, double slope) { return x < 0 ? slope * x : x; }}};
      out = broadcast(in[0], in[1], binary.at(op));
    } else if (op == "Gemm") {
      EXPECT_EQ(int_attribute(node, "transB", 0), 1);
      const std::int64_t rows = in[0].shape[0], k = in[0].shape[1], n = in[1].shape[0];
      EXPECT_EQ(in[1].shape[1], k);
      out.shape = {rows, n};
      out.values.assign(static_cast<std::size_t>(rows * n), 0.0);
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t o = 0; o < n; ++o) {
          double z = in[2].values[static_cast<std::size_t>(o)];
          for (std::int64_t i = 0; i < k; ++i) z += in[0].values[r * k + i] * in[1].values[o * k + i];
          out.values[r * n + o] = round_to_float(z);
        }
      }
    } else if (op == "Elu") {
      const double alpha = float_attribute(node, "alpha", 1.0f);
      out = map(in[0], [=](double x) { return x < 0 ? alpha * (std::exp(x) - 1) : x; });
    } else if (op == "Selu") {
      const double alpha = float_attribute(node, "alpha", 1.67326319217681884765625f);
      const double gamma = float_attribute(node, "gamma", 1.05070102214813232421875f);
      out = map(in[0], [=](double x) { return x <= 0 ? gamma * (alpha * std::exp(x) - alpha) : gamma * x; });
    } else if (op == "Shrink") {
      const double lambd = float_attribute(node, "lambd", 0.5f), bias = float_attribute(node, "bias", 0.0f);
      out = map(in[0], [=](double x) { return x < -lambd ? x + bias : (x > lambd ? x - bias : 0.0); });
    } else if (op == "HardSigmoid") {
      const double alpha = float_attribute(node, "alpha", 0.2f), beta = float_attribute(node, "beta", 0.5f);
      out = map(in[0], [=](double x) { return std::max(0.0, std::min(1.0, alpha * x + beta)); });
    } else if (op == "Clip") {
      const double lowest = in[1].values[0], highest = in[2].values[0];
      out = map(in[0], [=](double x) { return std::min(std::max(x, lowest), highest); });
    } else if (op == "HardSwish") {
      out = map(in[0], [](double x) { return x * std::max(0.0, std::min(1.0, x / 6 + 0.5)); });
    } else if (op == "LeakyRelu") {
      const double alpha = float_attribute(node, "alpha", 0.01f);
      out = map(in[0], [=](double x) { return x < 0 ? alpha * x : x; });
    } else if (op == "Relu") {
      out = map(in[0], [](double x) { return std::max(x, 0.0); });
    } else if (op == "Neg") {
      out = map(in[0], [](double x) { return -x; });
    } else if (op == "Softplus") {
      out = map(in[0], [](double x) { return std::log1p(std::exp(x)); });
    } else if (op == "Sigmoid") {
      out = map(in[0], [](double x) { return 1 / (1 + std::exp(-x)); });
    } else if (op == "Tanh") {
      out = map(in[0], [](double x) { return std::tanh(x); });
    } else if (op == "Erf") {
      out = map(in[0], [](double x) { return std::erf(x); });
    } else if (op == "Softsign") {
      out = map(in[0], [](double x) { return x / (1 + std::fabs(x)); });
    } else if (op == "Softmax" || op == "LogSoftmax") {
      EXPECT_EQ(int_attribute(node, "axis", -1), 1);
      out = softmax_rows(in[0], op == "LogSoftmax");
    } else if (op == "Mean") {
      out = in[0];
      for (std::size_t k = 1; k < in.size(); ++k) out = broadcast(out, in[k], [](double a, double b) { return a + b; });
      out = map(out, [&](double v) { return v / static_cast<double>(in.size()); });
    } else if (op == "Squeeze") {
      out = in[0];
      EXPECT_EQ(in[1].values, std::vector<double>{1.0});
      out.shape = {in[0].shape[0]};
    } else {
      ADD_FAILURE() << "the evaluator does not know " << op;
      continue;
    }
    values[node.output(0)] = out;
  }
  return values;
}

// Two reruns of widths {6, 5, 4, 1} (or `widths`) with random parameters and their PReLU slope.
StoredEnsemble random_ensemble(Activation activation, SplitMix64& random, std::vector<int> widths) {
  StoredEnsemble e;
  e.rank = 1;
  e.activation = activation;
  e.widths = widths;
  e.reruns = {1, 2};
  e.hyperparameters = {{"activation_function", kActivationNames[static_cast<int>(activation)]}, {"optimizer", "Adam"}};
  const ParameterLayout layout(widths);
  for (int r = 0; r < 2; ++r) {
    std::vector<float> p(layout.used);
    for (float& v : p) v = static_cast<float>(static_cast<double>(random.below(1u << 20)) / (1u << 19) - 1.0) * 1.2f;
    p[layout.prelu_offset] = r == 0 ? 0.3f : -0.15f;
    e.parameters.push_back(p);
  }
  return e;
}

TEST(OnnxExport, EveryActivationExportsAndComputesWhatPredictComputes) {
  SplitMix64 random(77);
  ModelInputs inputs;
  for (int f = 0; f < 6; ++f) {
    inputs.mean.push_back(0.1 * f - 0.2);
    inputs.scale.push_back(0.5 + 0.25 * f);
    inputs.factor.push_back(1.0);
  }
  inputs.prediction_threshold = 0.42;
  LabelledTable rows;
  rows.rows = 17;
  rows.features = 6;
  for (int i = 0; i < rows.rows * rows.features; ++i)
    rows.values.push_back(static_cast<double>(random.below(1u << 20)) / (1u << 18) - 2.0);
  const Dataset scaled = StandardScaler::from_statistics(inputs.mean, inputs.scale, inputs.factor).transform(rows);
  const Tensor features{{rows.rows, rows.features}, rows.values};

  std::vector<std::vector<int>> layouts;
  for (int a = 0; a < kActivationCount; ++a) layouts.push_back({6, 5, 4, 1});
  layouts.push_back({6, 1});  // no hidden layer: no activation at all
  for (std::size_t c = 0; c < layouts.size(); ++c) {
    const Activation activation = static_cast<Activation>(c % kActivationCount);
    SCOPED_TRACE(std::string(kActivationNames[static_cast<int>(activation)]) +
                 (layouts[c].size() == 2 ? ", no hidden layer" : ""));
    const StoredEnsemble ensemble = random_ensemble(activation, random, layouts[c]);
    const std::string bytes = onnx_model(ensemble, inputs);
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(bytes));
    EXPECT_NO_THROW(onnx::checker::check_model(model));
    ASSERT_EQ(model.opset_import_size(), 1);
    EXPECT_EQ(model.opset_import(0).version(), kOnnxOpset);
    ASSERT_EQ(model.graph().input_size(), 1);
    EXPECT_EQ(model.graph().input(0).name(), "features");
    ASSERT_EQ(model.graph().output_size(), 2);
    EXPECT_EQ(model.graph().output(0).name(), "probability");
    EXPECT_EQ(model.graph().output(1).name(), "buy");
    std::map<std::string, std::string> metadata;
    for (const auto& entry : model.metadata_props()) metadata[entry.key()] = entry.value();
    EXPECT_EQ(metadata["activation_function"], kActivationNames[static_cast<int>(activation)]);
    EXPECT_EQ(metadata["prediction_threshold"], "0.42");

    const std::vector<double> expected = ensemble_probabilities(rerun_probabilities(ensemble, scaled));
    const std::map<std::string, Tensor> got = evaluate(model, features);
    ASSERT_EQ(got.count("probability"), 1u);
    ASSERT_EQ(got.count("buy"), 1u);
    const Tensor& probability = got.at("probability");
    ASSERT_EQ(probability.shape, (std::vector<std::int64_t>{rows.rows}));
    for (int r = 0; r < rows.rows; ++r) {
      EXPECT_NEAR(probability.values[r], expected[r], 1e-5) << "row " << r;
      if (std::fabs(expected[r] - 0.42) > 1e-5) {
        EXPECT_EQ(got.at("buy").values[r] != 0.0, expected[r] > 0.42) << "row " << r;
      }
    }
  }
}

TEST(OnnxExport, TheCheckerRefusesABrokenGraph) {
  // The checker the export relies on does refuse: a node reading a value nothing produces.
  SplitMix64 random(5);
  ModelInputs inputs{{0.0, 0.0}, {1.0, 1.0}, {1.0, 1.0}, 0.5};
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(onnx_model(random_ensemble(Activation::ReLU, random, {2, 3, 1}), inputs)));
  model.mutable_graph()->mutable_node(3)->set_input(0, "nothing_makes_this");
  EXPECT_THROW(onnx::checker::check_model(model), std::exception);
}

}  // namespace
}  // namespace hf
