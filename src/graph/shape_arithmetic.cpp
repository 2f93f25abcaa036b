#include "graph/shape_arithmetic.h"

#include <algorithm>

namespace deepen {

using Ints = std::vector<int64_t>;

int64_t element_count(const Shape& shape) {
  int64_t n = 1;
  for (auto d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return -1;
  return n;
}

int64_t normalise_index(int64_t i, int64_t size) {
  if (i < 0) i += size;
  return std::clamp<int64_t>(i, 0, size);
}

std::optional<Shape> reshape_output(const Shape& input, const Ints& target) {
  Shape out;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0) {
      if (i >= input.size()) return std::nullopt;
      d = input[i];
    }
    if (d == -1) {
      if (infer_at >= 0) return std::nullopt;
      infer_at = static_cast<int64_t>(i);
      out.push_back(1);
      continue;
    }
    if (d <= 0 || __builtin_mul_overflow(known, d, &known)) return std::nullopt;
    out.push_back(d);
  }
  int64_t total = 1;
  for (auto d : input)
    if (__builtin_mul_overflow(total, d, &total)) return std::nullopt;
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0) return std::nullopt;
    out[infer_at] = total / known;
  } else if (known != total) {
    return std::nullopt;
  }
  return out;
}

const Ints* input_values(const Node& node, const IntsLookup& lookup, size_t k) {
  return k < node.inputs.size() && !node.inputs[k].empty() ? lookup(node.inputs[k]) : nullptr;
}

Shape shape_of(const std::string& name, const Ints& values, const ShapeLookup& shapes) {
  const Shape* s = shapes ? shapes(name) : nullptr;
  if (s && element_count(*s) == static_cast<int64_t>(values.size())) return *s;
  return {static_cast<int64_t>(values.size())};
}

Ints gather_nd(const Ints& data, const Shape& in_shape, const Shape& out_shape, const Ints& first, const Ints& step,
               const std::vector<size_t>& in_axis) {
  size_t rank = out_shape.size();
  Ints in_stride(in_shape.size(), 1);
  for (size_t a = in_shape.size(); a-- > 1;) in_stride[a - 1] = in_stride[a] * in_shape[a];
  Ints out;
  int64_t total = element_count(out_shape);
  out.reserve(static_cast<size_t>(std::max<int64_t>(total, 0)));
  Ints idx(rank, 0);
  for (int64_t e = 0; e < total; ++e) {
    int64_t offset = 0;
    for (size_t a = 0; a < rank; ++a) offset += (first[a] + idx[a] * step[a]) * in_stride[in_axis[a]];
    out.push_back(data[static_cast<size_t>(offset)]);
    for (size_t a = rank; a-- > 0;) {
      if (++idx[a] < out_shape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

std::optional<SliceWindow> slice_window(const Shape& shape, const Ints& starts, const Ints& ends, Ints axes,
                                        const Ints& steps) {
  const auto rank = static_cast<int64_t>(shape.size());
  if (axes.empty())
    for (int64_t a = 0; a < static_cast<int64_t>(starts.size()); ++a) axes.push_back(a);
  if (starts.size() != ends.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return std::nullopt;
  SliceWindow w{shape, Ints(rank, 0), Ints(rank, 1)};
  std::vector<bool> seen(rank, false);
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = axes[k] < 0 ? axes[k] + rank : axes[k];
    if (a < 0 || a >= rank || seen[a] || steps[k] == 0) return std::nullopt;
    seen[a] = true;
    int64_t dim = shape[a], s = starts[k], e = ends[k], st = steps[k];
    if (dim < 0 || st == INT64_MIN) return std::nullopt;
    if (dim == 0) {
      w.out_shape[a] = 0;
      continue;
    }
    if (s < 0) s = s < -dim ? 0 : s + dim;  // a start or end beyond the front, as INT64_MIN
    if (e < 0) e = e < -dim ? -1 : e + dim;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      w.out_shape[a] = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      w.out_shape[a] = s > e ? (s - e - 1) / -st + 1 : 0;
    }
    w.first[a] = s;
    w.step[a] = st;
  }
  return w;
}

bool slice_arguments(const Node& n, const IntsLookup& lookup, Ints* starts, Ints* ends, Ints* axes, Ints* steps) {
  auto in = [&](size_t k) -> const Ints* {
    return k < n.inputs.size() && !n.inputs[k].empty() ? lookup(n.inputs[k]) : nullptr;
  };
  if (n.inputs.size() >= 3) {
    if (!in(1) || !in(2)) return false;
    *starts = *in(1);
    *ends = *in(2);
    if (n.inputs.size() >= 4 && !n.inputs[3].empty()) {
      if (!in(3)) return false;
      *axes = *in(3);
    }
    if (n.inputs.size() >= 5 && !n.inputs[4].empty()) {
      if (!in(4)) return false;
      *steps = *in(4);
    }
  } else {
    *starts = n.attr_ints("starts");
    *ends = n.attr_ints("ends");
    *axes = n.attr_ints("axes");
  }
  if (steps->empty()) steps->assign(starts->size(), 1);
  return true;
}

std::optional<Ints> slice_values(const Ints& data, const Shape& shape, const Ints& starts, const Ints& ends,
                                 const Ints& axes, const Ints& steps) {
  auto w = slice_window(shape, starts, ends, axes, steps);
  if (!w) return std::nullopt;
  const auto rank = static_cast<int64_t>(shape.size());
  std::vector<size_t> same(rank);
  for (int64_t a = 0; a < rank; ++a) same[a] = static_cast<size_t>(a);
  return gather_nd(data, shape, w->out_shape, w->first, w->step, same);
}

}  // namespace deepen
