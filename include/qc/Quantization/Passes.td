//===- Passes.td - passes of the quantization library ------*- tablegen -*-===//
//
// Passes that need the quantization library's solvers (CBC) or its JIT runs;
// the dialect's own passes are in qc/Dialect/QC/Transforms/Passes.td.
//
//===----------------------------------------------------------------------===//
#ifndef QC_QUANTIZATION_PASSES_TD
#define QC_QUANTIZATION_PASSES_TD

include "mlir/Pass/PassBase.td"

def AssignBitWidths : Pass<"assign-bit-widths", "::mlir::ModuleOp"> {
  let summary = "Chooses each layer's weight and activation bits by integer programming";
  let description = [{
    Reads a sensitivity table (`table`, the JSON `quant-compile --bits auto
    --sensitivity-cache` writes: per weight layer of @main_graph, the cost of
    quantizing it alone at each candidate weight width, per layer input the
    cost at each activation width, sizes and MACs), solves the integer
    program (CBC) that minimizes the summed cost with exactly one format per
    layer and per layer input, under `size-budget` bytes and/or
    `bops-budget` bit operations (MACs x weight bits x activation bits), with
    the first and last layers pinned to the widest format
    (`pin-first-last`), and writes the choice as `qc.weight_scheme` on each
    layer and `qc.activation_scheme` on each input's observer, which
    `fold-calibration` honours. `method=greedy` takes the greedy baseline
    instead. An infeasible budget is an error naming the smallest feasible
    one; the table must describe this module's layers (by name, in order).
  }];
  let options = [
    Option<"table", "table", "std::string", "\"\"", "The sensitivity table (JSON)">,
    Option<"sizeBudget", "size-budget", "std::string", "\"\"",
           "Model size budget (e.g. 1.2MB, 800KB, bytes)">,
    Option<"bopsBudget", "bops-budget", "std::string", "\"\"",
           "Bit-operation budget (e.g. 3.5G)">,
    Option<"pinFirstLast", "pin-first-last", "bool", "true",
           "First and last weight layers at the widest format">,
    Option<"method", "method", "::qc::BitAssignmentMethod", "::qc::BitAssignmentMethod::ILP",
           "How the widths are chosen", [{::qc::clValues<::qc::BitAssignmentMethod>()}]>,
  ];
}

#endif // QC_QUANTIZATION_PASSES_TD
