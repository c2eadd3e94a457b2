// Input of quant-run-errors.test: TopK has no lowering yet.
func.func @main_graph(%x: tensor<4xf32>) -> tensor<2xf32> {
  %c = arith.constant dense<2> : tensor<1xi64>
  %v, %i = qc.topk %x, %c {axis = -1 : i64, largest = 1 : i64, sorted = 1 : i64} : (tensor<4xf32>, tensor<1xi64>) -> (tensor<2xf32>, tensor<2xi64>)
  return %v : tensor<2xf32>
}
