// The zoo: published parameter and MAC counts, valid variants, determinism, NAS-Bench-201 and
// single-kernel models that the detector finds again, and the CLI's errors.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>
#include <deepen/zoo.h>

#include "test_util.h"
#include "zoo/prng.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#ifdef DEEPEN_HAVE_OPENCV
#include <opencv2/dnn.hpp>
#endif

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>

#include <sys/wait.h>
#include <unistd.h>

namespace deepen {
namespace {

struct Work {
  double macs = 0, params = 0;
};

Work work_of(const Graph& g) {
  Work w;
  for (const auto& k : detect_kernels(g, default_fusion_rules())) w.macs += k.macs, w.params += k.params;
  return w;
}

// Checker and strict shape inference on the bytes; the inferred output shapes must match the
// declared ones (inference errors on a mismatch in strict mode).
void check_onnx(const std::string& bytes, const std::string& label) {
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(bytes)) << label;
  EXPECT_NO_THROW(onnx::checker::check_model(model)) << label;
  onnx::ShapeInferenceOptions options(true, 1, true);
  try {
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    ADD_FAILURE() << label << ": shape inference: " << e.what();
  }
  for (const auto& out : model.graph().output()) {
    ASSERT_TRUE(out.type().tensor_type().has_shape()) << label << ": output " << out.name() << " has no shape";
    for (const auto& d : out.type().tensor_type().shape().dim()) EXPECT_GT(d.dim_value(), 0) << label;
  }
}

#ifdef DEEPEN_HAVE_OPENCV
// Runs the model in OpenCV's DNN module; every output must be finite.
void run_opencv(const std::string& bytes, const Graph& g, const std::string& label) {
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
    for (const auto& in : g.inputs) {
      const Shape& s = g.tensor(in).shape;
      std::vector<int> dims(s.begin(), s.end());
      cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F);
      cv::randu(blob, -1.0, 1.0);
      net.setInput(blob, in);
    }
    std::vector<cv::Mat> outs;
    net.forward(outs, net.getUnconnectedOutLayersNames());
    ASSERT_FALSE(outs.empty()) << label;
    for (const auto& m : outs) EXPECT_TRUE(cv::checkRange(m)) << label << ": non-finite output";
  } catch (const cv::Exception& e) {
    ADD_FAILURE() << label << ": OpenCV: " << e.what();
  }
}
#endif

void expect_near_rel(double value, double published, double tolerance, const std::string& what) {
  EXPECT_LE(std::abs(value - published) / published, tolerance) << what << ": " << value << " vs " << published;
}

TEST(Zoo, ReferenceModelsMatchPublishedCounts) {
  struct Published {
    const char* family;
    double params, macs;
  };
  const Published table[] = {
      {"resnet18", 11.7e6, 1.82e9},  {"mobilenetv2", 3.5e6, 300e6}, {"mobilenetv1", 4.2e6, 569e6},
      {"squeezenet", 1.25e6, 0.82e9}, {"alexnet", 61e6, 0.71e9},    {"shufflenetv2", 2.3e6, 146e6},
      {"googlenet", 6.6e6, 1.5e9},    {"densenet", 8.0e6, 2.83e9},
  };
  for (const auto& p : table) {
    Work w = work_of(build_family(p.family));
    expect_near_rel(w.params, p.params, 0.02, std::string(p.family) + " params");
    expect_near_rel(w.macs, p.macs, 0.02, std::string(p.family) + " MACs");
  }
}

TEST(Zoo, EveryFamilyBuildsAndCountsSurviveTheOnnxRoundTrip) {
  for (const auto& fam : zoo_families()) {
    Graph g = build_family(fam.name);
    Work built = work_of(g);
    EXPECT_GT(built.macs, 0) << fam.name;
    if (fam.name == "vgg16" || fam.name == "alexnet") continue;  // large files; counted above
    std::string bytes = serialize_onnx(g, 1);
    check_onnx(bytes, fam.name);
    Work loaded = work_of(load_onnx_bytes(bytes, fam.name));
    EXPECT_DOUBLE_EQ(loaded.macs, built.macs) << fam.name;
    EXPECT_DOUBLE_EQ(loaded.params, built.params) << fam.name;
  }
}

TEST(Zoo, UnknownFamilyIsAnError) {
  EXPECT_THROW(build_family("resnet19"), Error);
  EXPECT_THROW(build_family_variant("nope", 1, 0), Error);
}

TEST(Zoo, VariantsStayValidForSeveralSeeds) {
  for (const char* family : {"resnet18", "mobilenetv2", "mobilenetv3_small", "shufflenetv2", "squeezenet",
                             "densenet", "googlenet", "mnasnet", "proxylessnas", "mobilenetv1"}) {
    for (uint64_t seed : {1u, 7u, 42u}) {
      Graph g = build_family_variant(family, seed, 0);
      std::string label = g.name + " seed " + std::to_string(seed);
      std::string bytes = serialize_onnx(g, seed);
      check_onnx(bytes, label);
      Graph loaded = load_onnx_bytes(bytes, label);
      EXPECT_GT(work_of(loaded).macs, 0) << label;
#ifdef DEEPEN_HAVE_OPENCV
      if (std::string(family) == "resnet18" || std::string(family) == "mobilenetv3_small" ||
          std::string(family) == "shufflenetv2")
        run_opencv(bytes, g, label);
#endif
    }
  }
}

TEST(Zoo, VariantsDifferAndAreResampled) {
  Graph a = build_family_variant("resnet18", 7, 0), b = build_family_variant("resnet18", 7, 1);
  EXPECT_NE(work_of(a).params, work_of(b).params);
  std::set<int64_t> ks;
  for (const auto& n : a.nodes)
    if (n.op == "Conv") {
      int64_t cout = a.tensor(n.inputs[1]).shape[0];
      if (cout != 1000) {
        EXPECT_EQ(cout % 8, 0);
        EXPECT_GE(cout, 8);
      }
      ks.insert(a.tensor(n.inputs[1]).shape[2]);
    }
  EXPECT_GE(ks.size(), 3u);
  for (auto k : ks) EXPECT_TRUE(k == 1 || k == 3 || k == 5 || k == 7) << k;
}

TEST(Zoo, SameSeedGivesTheSameBytes) {
  EXPECT_EQ(serialize_onnx(build_family_variant("mobilenetv2", 7, 3), 8),
            serialize_onnx(build_family_variant("mobilenetv2", 7, 3), 8));
  EXPECT_NE(serialize_onnx(build_family_variant("mobilenetv2", 7, 3), 8),
            serialize_onnx(build_family_variant("mobilenetv2", 8, 3), 8));
  EXPECT_EQ(serialize_onnx(build_family("squeezenet"), 3), serialize_onnx(build_family("squeezenet"), 3));
}

// The writer emits the model in pieces; the bytes must be exactly protobuf's own serialisation
// of the parsed model (field order, lengths), for graphs with every kind of initializer: random
// weights of odd and even sizes, int64 constants, float constants, and the opset-10 lowering.
TEST(Zoo, WriterBytesAreProtobufsOwnSerialisation) {
  std::vector<Graph> graphs = {build_family_variant("mobilenetv2", 7, 0), build_family("shufflenetv2"),
                               build_nb201("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2|",
                                           "cifar10"),
                               build_kernel_model("fc", parse_kernel_config("cin=7,cout=3"))};
  for (const auto& g : graphs) {
    std::string bytes = serialize_onnx(g, 5);
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(bytes)) << g.name;
    EXPECT_EQ(model.SerializeAsString(), bytes) << g.name;
    size_t random_floats = 0;
    for (const auto& init : model.graph().initializer()) {
      size_t n = 1;
      for (auto d : init.dims()) n *= static_cast<size_t>(d);
      if (init.data_type() == onnx::TensorProto::INT64) {
        EXPECT_EQ(static_cast<size_t>(init.int64_data_size()), n) << init.name();
      } else {
        EXPECT_EQ(init.raw_data().size(), n * 4) << init.name();
        if (n > 1) random_floats += n;
      }
    }
    EXPECT_GT(random_floats, 0u) << g.name;
  }
}

// Every implementation of the generator this CPU runs (plain, AVX2, AVX-512) against its
// definition: splitmix64 drawn one step at a time, two floats per draw (low half first), an odd
// last float from a draw of its own; and drawing a tensor in pieces of whole draws gives the
// same floats.
TEST(Zoo, UniformFloatsFollowSplitmix64) {
  const float offset = -0.25f, scale = 0.5f;
  auto expected = [&](uint64_t state, size_t n) {
    std::vector<float> v;
    while (v.size() < n) {
      uint64_t r = zoo::splitmix64(state);
      for (uint32_t bits : {static_cast<uint32_t>(r), static_cast<uint32_t>(r >> 32)}) {
        if (v.size() == n) break;
        uint32_t u = (bits >> 9) | 0x3F800000u;
        float f;
        std::memcpy(&f, &u, 4);
        volatile float product = scale * (f - 1.0f);  // rounded, as the writer must round it
        v.push_back(offset + product);
      }
    }
    return v;
  };
  // Bit-for-bit equality of the first n floats (memcmp must not see an empty vector's null data()).
  auto same_bits = [](const std::vector<float>& a, const std::vector<float>& b, size_t n) {
    return n == 0 || std::memcmp(a.data(), b.data(), n * 4) == 0;
  };
  std::vector<zoo::UniformFloatsFn> implementations = zoo::uniform_floats_implementations();
  implementations.push_back(zoo::uniform_floats);
  for (size_t impl = 0; impl < implementations.size(); ++impl) {
    auto draw = implementations[impl];
    for (size_t n : {0u, 1u, 2u, 127u, 128u, 129u, 1000u, 4097u}) {
      uint64_t state = 42 + n;
      std::vector<float> got(n);
      draw(state, offset, scale, n, reinterpret_cast<char*>(got.data()));
      std::vector<float> want = expected(42 + n, n);
      ASSERT_TRUE(same_bits(got, want, n)) << "implementation " << impl << ", n " << n;
      uint64_t pieces = 42 + n;
      std::vector<float> again(n);
      size_t first = (n / 2 / 3) * 2;  // an even number of floats, then the rest
      draw(pieces, offset, scale, first, reinterpret_cast<char*>(again.data()));
      draw(pieces, offset, scale, n - first, reinterpret_cast<char*>(again.data() + first));
      EXPECT_TRUE(same_bits(again, want, n)) << "implementation " << impl << ", n " << n;
      for (float f : got) EXPECT_TRUE(f >= offset && f < offset + scale) << f;
    }
  }
}

TEST(Zoo, FilesHoldTheSerialisedBytesWhateverTheThreadCount) {
  test::TempDir one, three;
  std::vector<std::string> order_one, order_three;
  write_family("squeezenet", 4, 7, one.path(), 1, ZooWeights::Random,
               [&](const std::string& p) { order_one.push_back(p); });
  write_family("squeezenet", 4, 7, three.path(), 3, ZooWeights::Random,
               [&](const std::string& p) { order_three.push_back(p); });
  ASSERT_EQ(order_one.size(), 5u);
  ASSERT_EQ(order_three.size(), 5u);
  EXPECT_EQ(order_one[0], one.file("squeezenet.onnx"));
  for (size_t i = 0; i < 5; ++i) {
    std::string name = i == 0 ? "squeezenet.onnx" : fmt::format("squeezenet_variant{:03d}.onnx", i - 1);
    EXPECT_EQ(order_one[i], one.file(name));
    EXPECT_EQ(order_three[i], three.file(name));
    std::string bytes = test::read_text(one.file(name));
    EXPECT_EQ(bytes, test::read_text(three.file(name))) << name;
    Graph g = i == 0 ? build_family("squeezenet") : build_family_variant("squeezenet", 7, static_cast<int>(i) - 1);
    EXPECT_EQ(bytes, serialize_onnx(g, 7 + i)) << name;
  }
  EXPECT_THROW(write_family("resnet19", 2, 7, one.path(), 2), Error);
}

TEST(Zoo, ParallelWritesReportInOrderAndRethrowTheFirstError) {
  std::vector<std::string> seen;
  std::atomic<int> calls{0};
  auto write = [&](int i) {
    ++calls;
    if (i == 5 || i == 9) throw Error(fmt::format("failed {}", i));
    std::this_thread::sleep_for(std::chrono::milliseconds((7 - i % 7) * 2));  // finish out of order
    return std::to_string(i);
  };
  try {
    write_in_parallel(12, 3, write, [&](const std::string& p) { seen.push_back(p); });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "failed 5");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  calls = 0;
  EXPECT_THROW(write_in_parallel(12, 1, write), Error);
  EXPECT_EQ(calls.load(), 6);  // no new index starts after the failure
  seen.clear();
  write_in_parallel(6, 0, [](int i) { return std::to_string(i); }, [&](const std::string& p) { seen.push_back(p); });
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3", "4", "5"}));
}

// Whether the filesystem of `dir` stores a file's unwritten ranges as holes.
bool supports_holes(const std::string& dir) {
  std::string probe = dir + "/hole-probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  bool holes = fd >= 0 && ::lseek(fd, 8 << 20, SEEK_SET) >= 0 && ::write(fd, "x", 1) == 1;
  struct stat st;
  holes = holes && ::fstat(fd, &st) == 0 && st.st_blocks * 512 < (1 << 20);
  if (fd >= 0) ::close(fd);
  std::remove(probe.c_str());
  return holes;
}

TEST(Zoo, ZeroWeightsAreHolesInAValidModel) {
  test::TempDir dir;
  Graph g = build_family_variant("resnet18", 7, 2);
  std::string path = dir.file("zeros.onnx");
  write_onnx(g, path, 7, ZooWeights::Zeros);
  std::string bytes = test::read_text(path);
  EXPECT_EQ(bytes, serialize_onnx(g, 7, ZooWeights::Zeros));
  std::string random = serialize_onnx(g, 7);
  ASSERT_EQ(bytes.size(), random.size());  // the same model but for the values
  check_onnx(bytes, "zero weights");
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(bytes));
  for (const auto& init : model.graph().initializer()) {
    if (init.data_type() == onnx::TensorProto::FLOAT && init.raw_data().size() > 4) {
      EXPECT_EQ(init.raw_data().find_first_not_of('\0'), std::string::npos) << init.name();
    }
  }
  if (supports_holes(dir.path())) {
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_LT(st.st_blocks * 512, st.st_size / 10) << "the zeros were written, not left as holes";
  }
#ifdef DEEPEN_HAVE_OPENCV
  run_opencv(bytes, g, "zero weights");
#endif
  EXPECT_EQ(parse_zoo_weights("zeros"), ZooWeights::Zeros);
  EXPECT_THROW(parse_zoo_weights("none"), Error);
}

// A FIFO (like /dev/null) is written in place: no temporary file is renamed over it.
TEST(Zoo, WritesToAFifoInPlace) {
  test::TempDir dir;
  std::string fifo = dir.file("pipe.onnx");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Graph g = build_kernel_model("relu", parse_kernel_config("hw=4,cin=8"));
  std::string received;
  std::thread reader([&] { received = test::read_text(fifo); });
  try {
    write_onnx(g, fifo, 3);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
    ::close(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK));  // lets the reader end
  }
  reader.join();
  EXPECT_EQ(received, serialize_onnx(g, 3));
  struct stat st;
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_FALSE(std::filesystem::exists(fifo + ".tmp"));
  EXPECT_THROW(write_onnx(g, dir.path(), 3), Error);  // a folder
  EXPECT_THROW(write_onnx(g, dir.file("no/such/folder.onnx"), 3), Error);
}

#ifdef DEEPEN_HAVE_OPENCV
TEST(Zoo, ReferenceModelsRunInOpenCV) {
  for (const char* family : {"squeezenet", "mobilenetv2", "mobilenetv3_large", "shufflenetv2", "resnet18"}) {
    Graph g = build_family(family);
    run_opencv(serialize_onnx(g, 1), g, family);
  }
}
#endif

const char* kAllConv3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";

TEST(Zoo, Nb201AllConv3x3MatchesPublishedCounts) {
  Graph g = build_nb201(kAllConv3, "cifar10");
  Work w = work_of(g);
  expect_near_rel(w.params, 1.53e6, 0.02, "nb201 params");
  expect_near_rel(w.macs, 220e6, 0.02, "nb201 MACs");
  std::string bytes = serialize_onnx(g, 1);
  check_onnx(bytes, "nb201");
#ifdef DEEPEN_HAVE_OPENCV
  run_opencv(bytes, g, "nb201");
#endif
  EXPECT_EQ(load_onnx_bytes(bytes, "nb201").tensor(g.outputs[0]).shape, (Shape{1, 10}));
  EXPECT_EQ(build_nb201(kAllConv3, "cifar100").tensor(build_nb201(kAllConv3, "cifar100").outputs[0]).shape,
            (Shape{1, 100}));
  Graph im = build_nb201(kAllConv3, "ImageNet16-120");
  EXPECT_EQ(im.tensor(im.inputs[0]).shape, (Shape{1, 3, 16, 16}));
  EXPECT_EQ(im.tensor(im.outputs[0]).shape, (Shape{1, 120}));
}

size_t count_ops(const Graph& g, const std::string& op) {
  size_t n = 0;
  for (const auto& node : g.nodes) n += node.op == op;
  return n;
}

TEST(Zoo, Nb201NoneEdgesAndDeadNodesProduceNoOperators) {
  // Node 1 is dead (none from 0); node 2's edge from node 1 carries nothing, so node 2 is one
  // conv from node 0; node 3 = skip from 0 + conv from 2 (the none and the dead node 1 add nothing).
  Graph g = build_nb201("|none~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|",
                        "cifar10");
  // 15 cells with 2 convs each, the stem, 2 x 3 in the reduction blocks.
  EXPECT_EQ(count_ops(g, "Conv"), 15u * 2 + 1 + 2 * 3);
  EXPECT_EQ(count_ops(g, "AveragePool"), 2u);  // only the reduction shortcuts
  EXPECT_EQ(count_ops(g, "Add"), 15u + 2);
  std::string bytes = serialize_onnx(g, 1);
  check_onnx(bytes, "nb201 with none");
#ifdef DEEPEN_HAVE_OPENCV
  run_opencv(bytes, g, "nb201 with none");
#endif
  // A cell whose output node receives nothing has no operators at all.
  Graph dead = build_nb201("|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|none~1|none~2|", "cifar10");
  EXPECT_EQ(count_ops(dead, "Conv"), 1u + 2 * 3);  // stem and reduction blocks only
  check_onnx(serialize_onnx(dead, 1), "nb201 dead cells");
}

TEST(Zoo, Nb201BadArchStringsAreErrors) {
  for (const char* bad : {"", "|nor_conv_3x3~0|", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                          "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
                          "|none~0|+|none~0|+|none~0|none~1|none~2|", "none~0+none~0|none~1+none~0|none~1|none~2"})
    EXPECT_THROW(build_nb201(bad, "cifar10"), Error) << bad;
  EXPECT_THROW(build_nb201(kAllConv3, "imagenet"), Error);
}

KernelConfig config_for(const std::string& type) {
  const KernelSchema* s = find_schema(type);
  KernelConfig c;
  for (const auto& f : s->config_fields) {
    double v = 8;
    if (f == "hw") v = 14;
    else if (f == "cin") v = 32;
    else if (f == "cout") v = (s->family == "split") ? 32 : (s->family == "slice" ? 16 : 48);
    else if (f == "ks") v = 3;
    else if (f == "stride") v = 2;
    else if (f == "groups") v = s->family == "channel-shuffle" ? 2 : 4;
    else if (f == "inputs") v = 3;
    else if (f == "mid") v = 8;
    c.set(f, v);
  }
  return c;
}

TEST(Zoo, SingleKernelModelsAreDetectedAsThatKernel) {
  std::vector<std::string> types = zoo_kernel_types();
  EXPECT_GE(types.size(), 40u);
  for (const auto& type : types) {
    KernelConfig config = config_for(type);
    Graph g = build_kernel_model(type, config);
    std::string bytes = serialize_onnx(g, 1);
    check_onnx(bytes, type);
    Graph loaded = load_onnx_bytes(bytes, type);
    std::vector<Kernel> kernels = detect_kernels(loaded, default_fusion_rules());
    std::vector<const Kernel*> real;
    for (const auto& k : kernels)
      if (!k.zero_cost) real.push_back(&k);
    ASSERT_EQ(real.size(), 1u) << type << ": " << kernels.size() << " kernels, first " << kernels[0].type;
    EXPECT_EQ(real[0]->type, type);
    for (const auto& [name, value] : config.fields)
      EXPECT_EQ(real[0]->config.get_or(name, -1), value) << type << " field " << name;
#ifdef DEEPEN_HAVE_OPENCV
    run_opencv(bytes, g, type);
#endif
  }
}

TEST(Zoo, BadKernelConfigsAreErrors) {
  auto cfg = [](const std::string& s) { return parse_kernel_config(s); };
  EXPECT_THROW(build_kernel_model("conv-bn-relu", cfg("hw=56,cin=64,cout=128,ks=3")), Error);  // no stride
  EXPECT_THROW(build_kernel_model("conv-bn-relu", cfg("hw=4,cin=64,cout=128,ks=3,stride=8")), Error);
  EXPECT_THROW(build_kernel_model("gconv-bn-relu", cfg("hw=8,cin=30,cout=64,ks=3,stride=1,groups=4")), Error);
  EXPECT_THROW(build_kernel_model("conv-bn-relu", cfg("hw=8,cin=0,cout=64,ks=3,stride=1")), Error);
  EXPECT_THROW(build_kernel_model("conv-bn-relu", cfg("hw=8,cin=3,cout=64,ks=3,stride=1,bogus=2")), Error);
  EXPECT_THROW(build_kernel_model("channel-shuffle", cfg("hw=8,cin=30,groups=4")), Error);
  EXPECT_THROW(build_kernel_model("conv-foo", cfg("hw=8,cin=3,cout=8,ks=3,stride=1")), Error);
  EXPECT_THROW(parse_kernel_config("hw=abc"), Error);
  EXPECT_THROW(parse_kernel_config("hw"), Error);
}

using test::run_deepen;

TEST(ZooCli, WritesFilesAndRejectsBadInputWithExit2) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("deepen_zoo_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  EXPECT_EQ(run_deepen("zoo --list").exit_code, 0);
  EXPECT_EQ(run_deepen("zoo --family squeezenet --variants 2 --seed 7 --out " + (dir / "sq").string()).exit_code, 0);
  EXPECT_TRUE(fs::exists(dir / "sq" / "squeezenet.onnx"));
  EXPECT_TRUE(fs::exists(dir / "sq" / "squeezenet_variant001.onnx"));
  EXPECT_EQ(run_deepen(std::string("zoo --nb201 '") + kAllConv3 + "' --dataset cifar100 --out " +
                    (dir / "nb.onnx").string()).exit_code,
            0);
  EXPECT_EQ(load_onnx((dir / "nb.onnx").string()).tensor("fc_0.out").shape, (Shape{1, 100}));
  {
    std::ofstream csv(dir / "archs.csv");
    csv << "id,arch\n1," << kAllConv3 << "\n2,|none~0|+|skip_connect~0|none~1|+|none~0|none~1|nor_conv_1x1~2|\n";
  }
  EXPECT_EQ(run_deepen("zoo --nb201-csv " + (dir / "archs.csv").string() + " --out " + (dir / "nbs").string()).exit_code, 0);
  EXPECT_TRUE(fs::exists(dir / "nbs" / "nb201_00001.onnx"));
  EXPECT_EQ(run_deepen("zoo --kernel conv-bn-relu --config hw=56,cin=64,cout=128,ks=3,stride=1 --out " +
                    (dir / "k.onnx").string()).exit_code,
            0);
  EXPECT_TRUE(fs::exists(dir / "k.onnx"));
  EXPECT_EQ(run_deepen("zoo --family squeezenet --weights zeros --threads 1 --out " + (dir / "z").string()).exit_code, 0);
  EXPECT_TRUE(fs::exists(dir / "z" / "squeezenet.onnx"));
  EXPECT_EQ(run_deepen("zoo --family squeezenet --weights none --out " + (dir / "x").string()).exit_code, 2);
  EXPECT_EQ(run_deepen("zoo --family squeezenet --threads -1 --out " + (dir / "x").string()).exit_code, 2);
  EXPECT_EQ(run_deepen("zoo --family resnet19 --out " + (dir / "x").string()).exit_code, 2);
  EXPECT_EQ(run_deepen("zoo --nb201 '|bad~0|' --out " + (dir / "x.onnx").string()).exit_code, 2);
  EXPECT_EQ(run_deepen("zoo --kernel conv-bn-relu --config hw=56,cin=64 --out " + (dir / "x.onnx").string()).exit_code, 2);
  EXPECT_EQ(run_deepen("zoo --kernel conv-bn-relu --config hw=2,cin=64,cout=8,ks=3,stride=4 --out " +
                    (dir / "x.onnx").string()).exit_code,
            2);
  EXPECT_EQ(run_deepen("zoo --kernel gconv-bn-relu --config hw=8,cin=30,cout=64,ks=3,stride=1,groups=4 --out " +
                    (dir / "x.onnx").string()).exit_code,
            2);
  EXPECT_FALSE(fs::exists(dir / "x.onnx"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace deepen
