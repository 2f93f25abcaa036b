// zoo/graph_builder.h: adds layers (conv, bn, activations, pooling, fc, ...) to a Graph with
// their weights as constant tensors and every output's shape computed, the way the loader would
// give them. Names are deterministic ("conv_12", "conv_12.w"), so the same calls give the same
// graph. Weight roles are told by suffix (.w, .b, .scale, .bias, .mean, .var) for the writer.
#pragma once

#include <deepen/graph.h>

#include <string>
#include <vector>

namespace deepen::zoo {

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string name, int64_t opset = 13);

  std::string input(const std::string& name, Shape shape);
  void output(const std::string& tensor);
  const Shape& shape(const std::string& tensor) const;
  int64_t channels(const std::string& tensor) const { return shape(tensor).at(1); }
  int64_t height(const std::string& tensor) const { return shape(tensor).at(2); }

  // pads {top, left, bottom, right}; pad < 0 means ks / 2 on every side.
  std::string conv(const std::string& x, int64_t cout, int64_t ks, int64_t stride = 1, int64_t groups = 1,
                   bool bias = false, int64_t pad = -1);
  std::string conv_pads(const std::string& x, int64_t cout, int64_t ks, int64_t stride, int64_t groups, bool bias,
                        const std::vector<int64_t>& pads);
  std::string dwconv(const std::string& x, int64_t ks, int64_t stride = 1) {
    return conv(x, channels(x), ks, stride, channels(x));
  }
  std::string bn(const std::string& x, double epsilon = 1e-5);
  // relu, relu6, hswish, hsigmoid, sigmoid, swish, tanh, leakyrelu, elu, prelu; "" or "none" returns x.
  std::string act(const std::string& x, const std::string& kind);
  std::string conv_bn_act(const std::string& x, int64_t cout, int64_t ks, int64_t stride, const std::string& act,
                          int64_t groups = 1) {
    return this->act(bn(conv(x, cout, ks, stride, groups)), act);
  }
  std::string add(const std::string& a, const std::string& b);
  std::string mul(const std::string& a, const std::string& b);
  // x times a scalar constant (a Mul node; xautodl's Zero edge is scale(x, 0)).
  std::string scale(const std::string& x, double factor);
  // x plus a scalar constant (an Add node; Python's sum() starts with 0 + the first term).
  std::string offset(const std::string& x, double value);
  // An element-wise op of two tensors of one rank (Sub, Div, ...), broadcast where a dimension is 1.
  std::string binary(const std::string& op, const std::string& a, const std::string& b);
  std::string concat(const std::vector<std::string>& xs);
  std::vector<std::string> split(const std::string& x, const std::vector<int64_t>& sizes);
  std::string slice_channels(const std::string& x, int64_t begin, int64_t end);
  std::string maxpool(const std::string& x, int64_t ks, int64_t stride, int64_t pad = 0, bool ceil_mode = false);
  std::string avgpool(const std::string& x, int64_t ks, int64_t stride, int64_t pad = 0, bool ceil_mode = false);
  std::string pool_pads(const std::string& op, const std::string& x, int64_t ks, int64_t stride,
                        const std::vector<int64_t>& pads, bool ceil_mode);
  std::string global_avgpool(const std::string& x);
  std::string flatten(const std::string& x);
  std::string fc(const std::string& x, int64_t cout);  // Gemm with transB on [N, cin]
  std::string softmax(const std::string& x);
  std::string channel_shuffle(const std::string& x, int64_t groups);
  // GlobalAveragePool -> Conv1x1 (bias) -> Relu -> Conv1x1 (bias) -> gate -> Mul.
  std::string se(const std::string& x, int64_t mid, const std::string& gate = "hsigmoid");
  std::string pad(const std::string& x, const std::vector<int64_t>& pads);  // {top, left, bottom, right}
  // A constant of zeros (a NAS-Bench-201 cell whose output carries nothing).
  std::string zeros(const Shape& shape);

  Graph take() { return std::move(graph_); }
  const Graph& graph() const { return graph_; }

 private:
  std::string fresh(const std::string& op);
  std::string weight(const std::string& node, const std::string& suffix, Shape shape);
  std::string int_constant(const std::string& node, const std::string& suffix, std::vector<int64_t> values);
  std::string float_constant(const std::string& node, const std::string& suffix, double value);
  std::string emit(const std::string& name, const std::string& op, std::vector<std::string> inputs,
                   const Shape& out_shape, std::map<std::string, AttrValue> attrs = {});
  std::string unary(const std::string& op, const std::string& x, std::map<std::string, AttrValue> attrs = {});

  Graph graph_;
  std::map<std::string, int> counters_;
};

}  // namespace deepen::zoo
