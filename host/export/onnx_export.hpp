// `hyperfuse export`: a kept combination of a finished search as one ONNX model, so the buy list
// can be computed by onnxruntime, PyTorch or any ONNX runtime. The graph is what predict
// computes: the input rows standardised with the training file's statistics (in double
// precision, as hyperfuse does), every rerun's layers (Gemm), its activation after each hidden
// layer and the output sigmoid, then the mean over the reruns and the threshold.
//
//   input   features     float32 [rows, n]   the n feature columns, as in the data files
//   output  probability  float32 [rows]      mean of the reruns' sigmoid outputs
//   output  buy          bool    [rows]      probability > the search's prediction_threshold
//
// Written with Debian's ONNX library (libonnx, opset 17, IR version 8) and checked by its
// checker and strict shape inference. All 25 activations export: those without an ONNX operator
// of their own are composed (GELU from Erf, Mish = x * tanh(softplus(x)), SiLU = x * sigmoid(x),
// LogSigmoid = -softplus(-x), Tanhshrink = x - tanh(x), Softmin = softmax(-x), ReLU6 and
// Hardtanh as Clip, Hardshrink and Softshrink as Shrink); RReLU uses its evaluation slope
// (LeakyRelu), PReLU its learned slope (PRelu).
#pragma once

#include <string>

#include "host/journal/stored_models.hpp"

namespace hf {

inline constexpr int kOnnxOpset = 17;

// The serialised ModelProto. Throws std::runtime_error when onnx's checker refuses it.
std::string onnx_model(const StoredEnsemble& ensemble, const ModelInputs& inputs);

}  // namespace hf
