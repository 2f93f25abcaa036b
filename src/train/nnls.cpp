#include "train/nnls.h"

#include <deepen/error.h>

#include <algorithm>
#include <cmath>

namespace deepen {
namespace {

// Solves G[s,s] z = c[s] for the columns in `set` by Cholesky; false when not positive definite.
bool solve_subset(const std::vector<double>& gram, const std::vector<double>& c, size_t n,
                  const std::vector<size_t>& set, std::vector<double>* z) {
  size_t k = set.size();
  std::vector<double> l(k * k, 0.0);
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j <= i; ++j) {
      double s = gram[set[i] * n + set[j]];
      for (size_t p = 0; p < j; ++p) s -= l[i * k + p] * l[j * k + p];
      if (i == j) {
        if (!(s > 0)) return false;
        l[i * k + i] = std::sqrt(s);
      } else {
        l[i * k + j] = s / l[j * k + j];
      }
    }
  std::vector<double> y(k);
  for (size_t i = 0; i < k; ++i) {
    double s = c[set[i]];
    for (size_t p = 0; p < i; ++p) s -= l[i * k + p] * y[p];
    y[i] = s / l[i * k + i];
  }
  z->assign(k, 0.0);
  for (size_t i = k; i-- > 0;) {
    double s = y[i];
    for (size_t p = i + 1; p < k; ++p) s -= l[p * k + i] * (*z)[p];
    (*z)[i] = s / l[i * k + i];
  }
  return true;
}

}  // namespace

std::vector<double> solve_nnls(const std::vector<double>& rows, size_t n, const std::vector<double>& b,
                               const std::vector<double>& weights) {
  size_t m = b.size();
  if (n == 0 || rows.size() != m * n || weights.size() != m) throw Error("nnls: inconsistent problem sizes");
  // Columns scaled to unit weighted norm, so that the tolerance and the ridge mean the same for
  // every column whatever its unit (GFLOP, MB, counts).
  std::vector<double> scale(n, 0.0);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) scale[j] += weights[i] * rows[i * n + j] * rows[i * n + j];
  for (double& s : scale) s = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
  std::vector<double> gram(n * n, 0.0), c(n, 0.0);
  for (size_t i = 0; i < m; ++i) {
    const double* a = &rows[i * n];
    for (size_t j = 0; j < n; ++j) {
      if (a[j] == 0) continue;
      double aj = a[j] * scale[j] * weights[i];
      c[j] += aj * b[i];
      for (size_t k = 0; k < n; ++k) gram[j * n + k] += aj * a[k] * scale[k];
    }
  }
  for (size_t j = 0; j < n; ++j) gram[j * n + j] += 1e-10;
  std::vector<double> x(n, 0.0);
  std::vector<bool> passive(n, false);
  auto gradient = [&](size_t j) {  // c - G x, the descent direction of column j
    double g = c[j];
    for (size_t k = 0; k < n; ++k) g -= gram[j * n + k] * x[k];
    return g;
  };
  for (int outer = 0; outer < static_cast<int>(3 * n) + 10; ++outer) {
    size_t best = n;
    double best_g = 1e-12;
    for (size_t j = 0; j < n; ++j) {
      if (passive[j] || scale[j] == 0) continue;
      double g = gradient(j);
      if (g > best_g) best_g = g, best = j;
    }
    if (best == n) break;
    passive[best] = true;
    for (int inner = 0; inner < static_cast<int>(n) + 5; ++inner) {
      std::vector<size_t> set;
      for (size_t j = 0; j < n; ++j)
        if (passive[j]) set.push_back(j);
      std::vector<double> z;
      if (!solve_subset(gram, c, n, set, &z)) {
        passive[best] = false;  // numerically dependent on the others: leave the column out
        scale[best] = 0;
        break;
      }
      bool feasible = std::all_of(z.begin(), z.end(), [](double v) { return v > 0; });
      if (feasible) {
        std::fill(x.begin(), x.end(), 0.0);
        for (size_t i = 0; i < set.size(); ++i) x[set[i]] = z[i];
        break;
      }
      double alpha = 1.0;
      for (size_t i = 0; i < set.size(); ++i)
        if (z[i] <= 0) alpha = std::min(alpha, x[set[i]] / (x[set[i]] - z[i]));
      for (size_t i = 0; i < set.size(); ++i) {
        x[set[i]] += alpha * (z[i] - x[set[i]]);
        if (x[set[i]] <= 1e-15) x[set[i]] = 0, passive[set[i]] = false;
      }
    }
  }
  for (size_t j = 0; j < n; ++j) x[j] *= scale[j];
  return x;
}

}  // namespace deepen
