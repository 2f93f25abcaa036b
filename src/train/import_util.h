// train/import_util.h: what the dataset imports share: a CSV read with line numbers and named
// columns, strict numbers, and a fingerprint of a built graph (identical graphs share a file).
#pragma once

#include <deepen/graph.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace deepen::import {

struct CsvTable {
  std::string label;
  std::vector<std::string> header;
  std::map<std::string, size_t> columns;  // name -> index
  std::vector<std::pair<size_t, std::vector<std::string>>> rows;  // 1-based line, cells

  bool has(const std::string& name) const { return columns.count(name) != 0; }
  // The index of a column, or an Error naming the file and the columns it has.
  size_t column(const std::string& name, const std::string& why) const;
};

// Parses CSV text (RFC 4180 quotes, CRLF, a UTF-8 BOM, blank lines skipped). Throws Error for an
// empty file, duplicate columns, a row with the wrong number of cells.
CsvTable read_csv(const std::string& text, const std::string& label);

// The whole cell as a finite number, or false.
bool parse_number(const std::string& cell, double* out);

// Two independent 64-bit hashes of the graph's nodes (op, attributes, inputs, outputs) and of
// its inputs' and constants' shapes and values: equal for graphs the zoo built by the same calls.
std::pair<uint64_t, uint64_t> graph_fingerprint(const Graph& graph);

}  // namespace deepen::import
