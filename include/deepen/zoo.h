// deepen/zoo.h: model families of the DeepEn2023 and nn-Meter studies, NAS-Bench-201 cells and
// single-kernel models, built as Graphs by our own builder and written as ONNX with seeded
// random weights (no Python needed).
#pragma once

#include <deepen/graph.h>
#include <deepen/kernels.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace deepen {

struct FamilyInfo {
  std::string name;         // e.g. "resnet18"
  std::string description;  // one line
  int64_t input_hw = 224;
};

// The families `deepen zoo --list` shows.
const std::vector<FamilyInfo>& zoo_families();

// The reference network of a family. Throws Error for an unknown family.
Graph build_family(const std::string& family);
// A variant: every layer's output channels scaled by a factor from [0.2, 1.8] (a multiple of 8,
// at least 8) and spatial kernel sizes drawn from {1, 3, 5, 7}, keeping the network valid.
Graph build_family_variant(const std::string& family, uint64_t seed, int index);

// How a NAS-Bench-201 cell becomes operators. Pruned: as an optimising converter leaves it, `none`
// edges and edges out of nodes that reach nothing produce no operators. AllEdges: as PyTorch
// (xautodl's InferCell) runs it, every edge is computed and a `none` edge is a multiplication by
// the scalar 0 (xautodl's Zero: x.mul(0.)). Torch2trt: what TensorRT executes of the network
// torch2trt traces from xautodl's (HW-NAS-Bench's Jetson TX2 setup): each node's sum starts with
// an Add of the scalar 0 (Python's sum()), `none` edges are constants of zeros that read nothing,
// layers whose output reaches nothing are removed, and every edge has its own ReLU.
enum class Nb201Graph { Pruned, AllEdges, Torch2trt };
// The arch string of the network build_nb201 builds in that form: edges that produce no operators
// written as none (Pruned), the arch itself (AllEdges, Torch2trt). Archs with the same canonical string give
// identical graphs. Throws Error for an arch that does not parse.
std::string nb201_canonical_arch(const std::string& arch, Nb201Graph form);
// Parses "pruned", "all-edges" or "torch2trt"; throws Error otherwise.
Nb201Graph parse_nb201_graph(const std::string& text);

// A NAS-Bench-201 network; dataset is cifar10, cifar100 or ImageNet16-120.
Graph build_nb201(const std::string& arch, const std::string& dataset, Nb201Graph form = Nb201Graph::Pruned);
// The same with the input size and class count given (a CSV's input_hw and num_classes columns).
Graph build_nb201(const std::string& arch, int64_t input_hw, int64_t classes, Nb201Graph form = Nb201Graph::Pruned);

// The rows of a CSV file with an `arch` column (and an optional `dataset` column, else "").
struct Nb201Row {
  std::string arch, dataset;
};
std::vector<Nb201Row> read_nb201_csv(const std::string& path);

// A model holding one kernel of the given type and config (the config fields of its schema).
// Throws Error for an unknown type, a missing or unknown field, or impossible values (stride
// larger than the input, channels not divisible by groups).
Graph build_kernel_model(const std::string& kernel_type, const KernelConfig& config);
// The kernel types build_kernel_model takes: every schema family and every chain of the default
// fusion rules (conv-bn-relu, dwconv-bn-relu6, add-relu, ...).
std::vector<std::string> zoo_kernel_types();
// Parses "hw=56,cin=64,cout=128,ks=3,stride=1"; throws Error on bad syntax.
KernelConfig parse_kernel_config(const std::string& text);

// The values of a model's weights: seeded uniform random values (He-uniform ranges for conv and
// fc weights), or zeros, which a file holds as holes where the filesystem allows, so that they
// cost no writing (the file keeps its full size and format).
enum class ZooWeights { Random, Zeros };
// Parses "random" or "zeros"; throws Error otherwise.
ZooWeights parse_zoo_weights(const std::string& text);

// Writes a Graph as an ONNX file (opset 13); constant tensors get values from the seed, so the
// same graph and seed give the same bytes. Throws Error when the file cannot be written.
void write_onnx(const Graph& graph, const std::string& path, uint64_t seed = 1,
                ZooWeights weights = ZooWeights::Random);
// The bytes write_onnx writes.
std::string serialize_onnx(const Graph& graph, uint64_t seed = 1, ZooWeights weights = ZooWeights::Random);

// Runs write(i) for every i in [0, n) on `threads` threads (0: one per core); write returns the
// path it wrote, and written(path) is called in index order, each as soon as it and every path
// before it are written. After a failure no new index starts; the error of the lowest failing
// index is rethrown once the running writes end (every index below it is written and reported).
void write_in_parallel(int n, int threads, const std::function<std::string(int)>& write,
                       const std::function<void(const std::string&)>& written = {});
// Writes a family's reference network as DIR/FAMILY.onnx (weights from `seed`) and `variants`
// variants as DIR/FAMILY_variantNNN.onnx (variant i: build_family_variant(family, seed, i), weights
// from seed + i + 1), on `threads` threads as write_in_parallel does; the files do not depend on
// the number of threads. Throws Error for an unknown family before writing anything.
void write_family(const std::string& family, int variants, uint64_t seed, const std::string& dir, int threads,
                  ZooWeights weights = ZooWeights::Random,
                  const std::function<void(const std::string&)>& written = {});

}  // namespace deepen
