// Non-negative least squares for the small dense problems of composite training (tens of
// unknowns, thousands of rows): Lawson and Hanson's active-set method on the normal equations.
#pragma once

#include <cstddef>
#include <vector>

namespace deepen {

// Minimises sum_i w_i (a_i . x - b_i)^2 subject to x >= 0. rows: row-major, ncols each. Columns
// that are all zero get 0. Deterministic; a tiny ridge keeps collinear columns solvable.
std::vector<double> solve_nnls(const std::vector<double>& rows, std::size_t ncols, const std::vector<double>& b,
                               const std::vector<double>& weights);

}  // namespace deepen
