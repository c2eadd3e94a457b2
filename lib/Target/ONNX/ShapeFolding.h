//===- ShapeFolding.h - shape inference and shape-subgraph folding -*- C++
//-*-===//
#ifndef QC_LIB_TARGET_ONNX_SHAPEFOLDING_H
#define QC_LIB_TARGET_ONNX_SHAPEFOLDING_H

#include "onnx/onnx_pb.h"
#include <string>

namespace qc::onnx_import {

/// Runs ONNX's shape inference over `model`, folding integer shape
/// computations (Shape, Size, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast,
/// integer Add/Sub/Mul/Div) on constants into initializers between rounds.
/// Returns false with `error` set when shape inference reports an error.
bool inferShapesAndFold(onnx::ModelProto &model, std::string &error);

} // namespace qc::onnx_import

#endif
