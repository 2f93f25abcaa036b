// deepen/csv.h: the one CSV writer behind every CSV deepen writes (predict, kernels, eval,
// measure, datasets), RFC 4180: a cell is quoted when it holds a comma, a quote, a CR or an LF,
// and a quote inside a quoted cell is doubled. Anything else is written as it is.
//
//   out << csv_row({"model", "latency_ms"});          // model,latency_ms\n
//   out << csv_row({"a,b.onnx", "1.5"});              // "a,b.onnx",1.5\n
//   csv_escape("say \"hi\"")                          // "say ""hi"""
#pragma once

#include <string>
#include <vector>

namespace deepen {

// One cell, quoted when it must be.
std::string csv_escape(const std::string& cell);
// One line: the cells escaped, joined by commas, ended by "\n".
std::string csv_row(const std::vector<std::string>& cells);

}  // namespace deepen
