// deepen._core: the Python module's C++ half, a thin binding over the library the CLI uses
// (include/deepen). A model goes the CLI's way: load_onnx or load_onnx_bytes, predict_model,
// and its report converts to the dict that `deepen predict -f json --per-kernel` writes (through
// the same JSON writer). The GIL is released while the library works, so Python threads scale.
// python/deepen/__init__.py re-exports all of it and adds the pure-Python helpers.
//
// Errors: the library throws deepen::Error, whose kind says what sort of failure it is (bad input,
// unknown predictor, ...); one translator turns it into the Python exception of its kind,
// deepen.Error or one of its subclasses (class_of). Nothing else is translated anywhere.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/predict.h>
#include <deepen/report.h>
#include <deepen/schema.h>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace py = pybind11;
namespace fs = std::filesystem;

namespace deepen::python {
namespace {

// ---- Errors ---------------------------------------------------------------------------------

// The Python exception classes (docs/python.md). All but Prediction are errors of the library
// (class_of gives each kind's); Prediction is a model that was read but got no number (the CLI's
// exit 1 or 3), a report's error rather than a thrown one.
enum class PyClass { Error, BadInput, UnknownPredictor, Unsupported, Prediction, Registry };

// Python's exception class of each, created at import (module init).
struct ExceptionClass {
  PyClass cls;
  const char* name;
  PyObject* extra_base;  // a built-in base besides deepen.Error, or nullptr
  const char* doc;
  PyObject* type = nullptr;
};
ExceptionClass g_exceptions[] = {
    {PyClass::Error, "Error", nullptr,
     "Base of every error deepen raises; str(e) is deepen's message (what, where, what to do)."},
    {PyClass::BadInput, "BadInputError", PyExc_ValueError,
     "A model or argument deepen cannot use: bytes or a file that is not a readable ONNX model, "
     "a bad input shape or purpose, shapes that cannot be resolved."},
    {PyClass::UnknownPredictor, "UnknownPredictorError", PyExc_LookupError,
     "No predictor of that name (and version) in the registry; the message suggests near names."},
    {PyClass::Unsupported, "UnsupportedError", nullptr,
     "The predictor cannot give the purpose asked (trained for another, and no fallback)."},
    {PyClass::Prediction, "PredictionError", nullptr,
     "The model was read, but nothing could be scored for the purpose asked."},
    {PyClass::Registry, "RegistryError", nullptr,
     "The registry (predictors.yaml) or a predictor's files cannot be read."},
};

PyObject* exception_type(PyClass cls) {
  for (const auto& e : g_exceptions)
    if (e.cls == cls) return e.type;
  return g_exceptions[0].type;
}

// The class of a library error of this kind. A model deepen cannot handle (Unsupported) is a
// BadInputError, a ValueError, as it has been since the module's first version; UnsupportedError
// is a purpose the predictor cannot give.
PyClass class_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadInput:
    case ErrorKind::Unsupported:
      return PyClass::BadInput;
    case ErrorKind::UnknownPredictor:
      return PyClass::UnknownPredictor;
    case ErrorKind::UnsupportedPurpose:
      return PyClass::Unsupported;
    case ErrorKind::Registry:
      return PyClass::Registry;
    case ErrorKind::Internal:
      return PyClass::Error;
  }
  return PyClass::Error;
}

// Sets Python's error of that class; a message that is not valid UTF-8 (names from a broken model)
// is decoded with replacement characters rather than lost.
void set_python_error(PyClass cls, const char* message) {
  PyObject* text = PyUnicode_DecodeUTF8(message, static_cast<Py_ssize_t>(std::char_traits<char>::length(message)),
                                        "replace");
  if (!text) return;  // Python's own error (memory) is set
  PyErr_SetObject(exception_type(cls), text);
  Py_DECREF(text);
}

// An error captured on a worker thread, to be raised (or kept) on the calling one.
struct Failure {
  PyClass cls = PyClass::Error;
  std::string message;
};

// Raises the failure as its Python exception (with the GIL held).
[[noreturn]] void raise_failure(const Failure& failure) {
  set_python_error(failure.cls, failure.message.c_str());
  throw py::error_already_set();
}

// ---- Where the registry is --------------------------------------------------------------------

std::string g_package_dir;  // deepen/ (the package folder), set by __init__.py

// The registry the module uses when none is given: $DEEPEN_PREDICTORS, then one shipped with the
// package (pip install copies predictors/ into it), then the one `cmake --install` puts under
// <prefix>/share/deepen/predictors, then the source tree's (a build tree). The CLI's search
// relative to its executable means nothing here: this process's executable is Python's.
std::string default_registry_dir() {
  if (const char* env = std::getenv("DEEPEN_PREDICTORS"); env && *env) return env;
  if (!g_package_dir.empty()) {
    std::error_code ec;
    for (const fs::path& candidate : {fs::path(g_package_dir) / "predictors",
                                      fs::path(g_package_dir) / DEEPEN_PYTHON_PREDICTORS_RELDIR})
      if (fs::exists(candidate / "predictors.yaml", ec)) return fs::weakly_canonical(candidate, ec).string();
  }
  return (fs::path(DEEPEN_SOURCE_DIR) / "predictors").string();
}

std::string registry_dir(const std::optional<std::string>& given) {
  return given && !given->empty() ? *given : default_registry_dir();
}

// ---- Arguments --------------------------------------------------------------------------------

// A model as the caller gave it: a path, or the bytes of an ONNX model (bytes, bytearray,
// memoryview or any buffer), read in place while the call holds a reference to it.
// The buffer is released with the GIL held: a ModelInput outlives the GIL-free part of a call.
struct ModelInput {
  std::string path;   // empty for bytes
  std::string label;  // what results and errors call it: the path, or the label of the bytes
  std::shared_ptr<Py_buffer> buffer;
  std::string_view bytes;
  bool is_path() const { return !path.empty(); }
};

// label: the name to give the model (default: its path; `bytes_label` for bytes).
ModelInput model_input(const py::handle& model, const std::string& bytes_label,
                       const std::optional<std::string>& label = std::nullopt) {
  ModelInput in;
  if (py::isinstance<py::str>(model) || py::hasattr(model, "__fspath__")) {
    py::object path = py::module_::import("os").attr("fspath")(model);
    if (!py::isinstance<py::str>(path))
      throw py::type_error("deepen: a model path must be a str or os.PathLike of str, not bytes");
    in.path = path.cast<std::string>();
    if (in.path.empty()) throw Error("an empty path: give an .onnx file");
    in.label = label.value_or(in.path);
    return in;
  }
  if (PyObject_CheckBuffer(model.ptr())) {
    auto view = std::shared_ptr<Py_buffer>(new Py_buffer(), [](Py_buffer* b) {
      PyBuffer_Release(b);
      delete b;
    });
    // A contiguous run of bytes (bytes, bytearray, a contiguous memoryview or array).
    if (PyObject_GetBuffer(model.ptr(), view.get(), PyBUF_SIMPLE) != 0) {
      view.reset(new Py_buffer(), [](Py_buffer* b) { delete b; });
      PyErr_Clear();
      throw py::type_error("deepen: the model's buffer is not contiguous: give bytes(...) of it");
    }
    in.buffer = view;
    in.bytes = std::string_view(static_cast<const char*>(view->buf), static_cast<size_t>(view->len));
    in.label = label.value_or(bytes_label);
    return in;
  }
  throw py::type_error(fmt::format(
      "deepen: a model is a path (str or os.PathLike) or the bytes of an ONNX model, not {}",
      py::str(py::type::handle_of(model).attr("__name__")).cast<std::string>()));
}

// input_shapes={"input": "1x3x224x224" or (1, 3, 224, 224)}: read as --input-shape reads them.
LoadOptions load_options(const std::optional<py::dict>& input_shapes) {
  LoadOptions load;
  if (!input_shapes) return load;
  for (const auto& [key, value] : *input_shapes) {
    std::string name = py::str(key).cast<std::string>();
    std::string dims;
    if (py::isinstance<py::str>(value)) {
      dims = value.cast<std::string>();
    } else if (py::isinstance<py::sequence>(value)) {
      for (const auto& d : value.cast<py::sequence>()) {
        if (!py::isinstance<py::int_>(d))
          throw Error(fmt::format("input shape of '{}': give whole numbers, as (1, 3, 224, 224) or \"1x3x224x224\"",
                                  name));
        dims += (dims.empty() ? "" : "x") + py::str(d).cast<std::string>();
      }
    } else {
      throw Error(fmt::format("input shape of '{}': give a tuple such as (1, 3, 224, 224) or a string such as "
                              "\"1x3x224x224\"",
                              name));
    }
    load.input_shapes.insert(parse_input_shape(name + ":" + dims));
  }
  return load;
}

Purpose purpose_of(const std::string& text) { return parse_purpose(text); }

py::object number_or_none(double v) { return std::isnan(v) ? py::object(py::none()) : py::object(py::float_(v)); }
py::object count(double v) {
  return integral_count(v) ? py::object(py::int_(static_cast<int64_t>(v))) : py::object(py::float_(v));
}

// A string as Python's repr() writes it (for __repr__ and messages), invalid UTF-8 replaced.
std::string quoted(const std::string& s) {
  py::object text = py::reinterpret_steal<py::object>(
      PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
  if (!text) throw py::error_already_set();
  return py::repr(text).cast<std::string>();
}

py::object json_loads(const std::string& text) { return py::module_::import("json").attr("loads")(text); }

// ---- Kernels and results ------------------------------------------------------------------------

// One kernel of a model: what detect_kernels found, and its estimate when the model was predicted.
struct PyKernel {
  Kernel kernel;
  std::string rules_scored_as;  // the type whose schema and predictor the fusion rules name (same_as)
  std::optional<Estimate> estimate;
  Purpose purpose = Purpose::Energy;

  // The kernel type whose predictor gave its number (the estimate's; empty for zero-cost and
  // uncovered kernels), or the one the fusion rules name when it was not predicted.
  std::string scored_as() const { return estimate ? estimate->scored_as : rules_scored_as; }

  py::dict config() const {
    py::dict d;
    for (const auto& [key, v] : kernel.config.fields) d[py::str(key)] = v;
    return d;
  }
  // The features its predictor reads (the schema's, in order); empty for types without one.
  py::dict features() const {
    py::dict d;
    const KernelSchema* s = kernel.zero_cost ? nullptr : find_schema(rules_scored_as);
    if (!s) return d;
    std::vector<double> values = s->features(kernel.config);
    for (size_t i = 0; i < values.size(); ++i) d[py::str(s->feature_names[i])] = values[i];
    return d;
  }
  py::object value_of(Purpose p) const { return estimate ? number_or_none(estimate->value(p)) : py::none(); }
  py::object sources() const {
    if (!estimate) return py::none();
    py::dict d;
    for (Purpose p : {Purpose::Latency, Purpose::Energy, Purpose::Power})
      d[py::str(purpose_name(p))] = source_name(estimate->source_of(p));
    return d;
  }
  py::dict to_dict() const {
    py::dict d;
    d["type"] = kernel.type;
    d["scored_as"] = scored_as();
    d["zero_cost"] = kernel.zero_cost;
    d["nodes"] = kernel.nodes;
    d["ops"] = kernel.ops;
    d["config"] = config();
    d["features"] = features();
    d["macs"] = count(kernel.macs);
    d["flops"] = count(kernel.flops);
    d["params"] = count(kernel.params);
    d["bytes"] = count(kernel.bytes);
    if (estimate) {
      d["purpose"] = purpose_name(purpose);
      for (Purpose p : {Purpose::Latency, Purpose::Energy, Purpose::Power}) d[py::str(purpose_field(p))] = value_of(p);
      d["source"] = source_name(estimate->source);
      d["sources"] = sources();
      d["extrapolated"] = estimate->extrapolated;
      d["extrapolated_why"] = estimate->extrapolated_why;
      d["power_outside_envelope"] = estimate->power_outside_envelope;
    }
    return d;
  }
  std::string repr() const {
    std::string config;
    for (const auto& [key, v] : kernel.config.fields)
      config += fmt::format("{}{}={}", config.empty() ? "" : " ", key, format_number(v));
    std::string est;
    if (estimate)
      est = fmt::format(", {}={}, source={}", purpose_field(purpose), format_number(estimate->value(purpose)),
                        source_name(estimate->source));
    return fmt::format("deepen.Kernel({}{}{}{})", kernel.type, kernel.zero_cost ? " (zero-cost)" : "",
                       config.empty() ? "" : ": " + config, est);
  }
};

// What the result of a prediction knows beyond its report: the predictor and purpose it was for.
struct ResultContext {
  std::string predictor, version, device;
  Purpose purpose = Purpose::Energy;
};

// The prediction of one model.
struct PyResult {
  ModelReport report;
  ResultContext context;
  std::shared_ptr<const FusionRules> rules;  // for each kernel's scored_as

  double value() const { return value_of(report, context.purpose); }
  std::vector<PyKernel> kernels() const {
    std::vector<PyKernel> out;
    out.reserve(report.kernels.size());
    for (size_t i = 0; i < report.kernels.size(); ++i) {
      PyKernel k{report.kernels[i], rules->scored_as(report.kernels[i].type), std::nullopt, context.purpose};
      if (i < report.estimates.size()) k.estimate = report.estimates[i];
      out.push_back(std::move(k));
    }
    return out;
  }
  ReportContext report_context(bool per_kernel, bool all_purposes) const {
    ReportContext ctx;
    ctx.predictor = context.predictor;
    ctx.version = context.version;
    ctx.device = context.device;
    ctx.purpose = context.purpose;
    ctx.per_kernel = per_kernel;
    ctx.all_purposes = all_purposes;
    return ctx;
  }
  // The model's entry of `deepen predict -f json` (with --per-kernel: its kernel_list).
  py::object to_dict(bool per_kernel, bool all_purposes) const {
    std::ostringstream out;
    write_json(out, {report}, report_context(per_kernel, all_purposes));
    return json_loads(out.str())["models"][py::int_(0)];
  }
  std::string repr() const {
    if (!report.error.empty())
      return fmt::format("deepen.Result({}, error={})", quoted(report.model), quoted(report.error));
    return fmt::format("deepen.Result({}, {}={}, coverage={}, flop_coverage={})", quoted(report.model),
                       purpose_field(context.purpose), format_number(value()), format_share(report.coverage_kernels),
                       format_share(report.coverage_flops));
  }
};

// The JSON document `deepen predict -f json` writes for these results (one predictor, one purpose).
std::string results_json(const std::vector<const PyResult*>& results, bool per_kernel, bool all_purposes) {
  if (results.empty()) throw Error("to_json: give at least one result");
  const PyResult& first = *results.front();
  std::vector<ModelReport> reports;
  for (const PyResult* r : results) {
    if (r->context.predictor != first.context.predictor || r->context.version != first.context.version ||
        r->context.purpose != first.context.purpose)
      throw Error(fmt::format("to_json: the results come from different predictors or purposes ({} {} {} and {} {} "
                              "{}); a document holds one of each",
                              first.context.predictor, first.context.version, purpose_name(first.context.purpose),
                              r->context.predictor, r->context.version, purpose_name(r->context.purpose)));
    reports.push_back(r->report);
  }
  std::ostringstream out;
  write_json(out, reports, first.report_context(per_kernel, all_purposes));
  return out.str();
}

// ---- The predictor --------------------------------------------------------------------------------

struct PredictArgs {
  Purpose purpose = Purpose::Energy;
  LoadOptions load;
  PredictOptions options;
};

class PyPredictor {
 public:
  PyPredictor(const std::string& name, const std::optional<std::string>& version,
              const std::optional<std::string>& predictors_dir) {
    const std::string dir = registry_dir(predictors_dir);
    Registry registry = load_registry(dir);
    root_ = registry.root;
    predictor_ = std::make_shared<const Predictor>(Predictor::load(registry, name, version.value_or("")));
    rules_ = std::make_shared<const FusionRules>(predictor_->fusion_rules());
    const PredictorEntry& e = predictor_->entry();
    context_ = {e.name, e.version, e.device, Purpose::Energy};
  }

  const PredictorEntry& entry() const { return predictor_->entry(); }
  const std::string& registry_root() const { return root_; }
  const std::shared_ptr<const FusionRules>& rules() const { return rules_; }

  bool supports(const std::string& purpose) const { return predictor_->supports(purpose_of(purpose)); }

  PredictArgs args(const std::string& purpose, const std::optional<py::dict>& input_shapes, bool use_fallback) const {
    PredictArgs a;
    a.purpose = purpose_of(purpose);
    std::string why;
    if (!predictor_->supports(a.purpose, &why)) throw Error(ErrorKind::UnsupportedPurpose, why);
    a.load = load_options(input_shapes);
    a.options.purpose = a.purpose;
    a.options.use_fallback = use_fallback;
    return a;
  }

  // One model, without the GIL: a result, or the failure (never an exception).
  std::pair<std::optional<PyResult>, std::optional<Failure>> run(const ModelInput& in, const PredictArgs& a) const {
    try {
      Graph graph = in.is_path() ? load_onnx(in.path, a.load) : load_onnx_bytes(in.bytes, in.label, a.load);
      ModelReport report = predict_model(in.label, std::move(graph), *predictor_, a.options);
      ResultContext ctx = context_;
      ctx.purpose = a.purpose;
      std::optional<Failure> failure;
      if (!report.error.empty()) failure = Failure{PyClass::Prediction, fmt::format("{}: {}", in.label, report.error)};
      return {PyResult{std::move(report), ctx, rules_}, std::move(failure)};
    } catch (const Error& e) {
      return {std::nullopt, Failure{class_of(e.kind()), e.what()}};
    } catch (const std::bad_alloc&) {
      return {std::nullopt, Failure{PyClass::Error, in.label + ": out of memory"}};
    } catch (const std::exception& e) {
      return {std::nullopt, Failure{PyClass::Error, fmt::format("{}: {}", in.label, e.what())}};
    }
  }

  PyResult predict(const py::handle& model, const std::string& purpose, const std::optional<py::dict>& input_shapes,
                   bool use_fallback, const std::optional<std::string>& label) const {
    PredictArgs a = args(purpose, input_shapes, use_fallback);
    ModelInput in = model_input(model, "<bytes>", label);
    std::pair<std::optional<PyResult>, std::optional<Failure>> out;
    {
      py::gil_scoped_release release;
      out = run(in, a);
    }
    if (out.second) raise_failure(*out.second);
    return std::move(*out.first);
  }

  py::list predict_many(const py::object& models, const std::string& purpose,
                        const std::optional<py::dict>& input_shapes, bool use_fallback, int threads,
                        const std::string& errors, const std::optional<std::vector<std::string>>& labels) const {
    if (errors != "raise" && errors != "keep")
      throw Error(fmt::format("errors={}: give \"raise\" (the first failure raises) or \"keep\" (a failed model's "
                              "result carries its error)",
                              quoted(errors)));
    if (threads < 0) throw Error("threads: give 1 or more, or 0 for one per core");
    // One path or one model's bytes is iterable too: refuse it rather than score its characters.
    if (py::isinstance<py::str>(models) || PyObject_CheckBuffer(models.ptr()) || py::hasattr(models, "__fspath__"))
      throw py::type_error("deepen: predict_many takes a list of models (paths or bytes); for one model, call predict");
    PredictArgs a = args(purpose, input_shapes, use_fallback);
    std::vector<ModelInput> inputs;
    for (const auto& m : py::iter(models)) {
      std::optional<std::string> label;
      if (labels && inputs.size() < labels->size()) label = (*labels)[inputs.size()];
      inputs.push_back(model_input(m, fmt::format("<bytes[{}]>", inputs.size()), label));
    }
    if (labels && labels->size() != inputs.size())
      throw Error(fmt::format("labels: {} given for {} models; give one per model", labels->size(), inputs.size()));
    std::vector<std::pair<std::optional<PyResult>, std::optional<Failure>>> out(inputs.size());
    {
      py::gil_scoped_release release;
      size_t workers = threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : static_cast<size_t>(threads);
      workers = std::min(workers, inputs.size());
      std::atomic<size_t> next{0};
      auto work = [&] {
        for (size_t i = next++; i < inputs.size(); i = next++) out[i] = run(inputs[i], a);
      };
      if (workers <= 1) {
        work();
      } else {
        std::vector<std::thread> pool;
        for (size_t t = 0; t < workers; ++t) pool.emplace_back(work);
        for (auto& t : pool) t.join();
      }
    }
    py::list results;
    for (size_t i = 0; i < out.size(); ++i) {
      auto& [result, failure] = out[i];
      if (failure && errors == "raise") raise_failure(*failure);
      if (!result) {  // kept: a result that says why
        ModelReport r;
        r.model = inputs[i].label;
        r.error = failure->message;
        ResultContext ctx = context_;
        ctx.purpose = a.purpose;
        result = PyResult{std::move(r), ctx, rules_};
      }
      results.append(py::cast(std::move(*result)));
    }
    return results;
  }

  std::string repr() const {
    return fmt::format("deepen.Predictor({}, version={}, device={})", quoted(entry().name), quoted(entry().version),
                       quoted(entry().device));
  }

 private:
  std::shared_ptr<const Predictor> predictor_;
  std::shared_ptr<const FusionRules> rules_;
  ResultContext context_;
  std::string root_;
};

// ---- Module functions --------------------------------------------------------------------------------

std::vector<PyKernel> model_kernels(const py::handle& model, const py::object& predictor,
                                    const std::optional<std::string>& version,
                                    const std::optional<std::string>& predictors_dir,
                                    const std::optional<py::dict>& input_shapes) {
  std::shared_ptr<const FusionRules> rules;
  if (predictor.is_none()) {
    rules = std::make_shared<const FusionRules>(default_fusion_rules());
  } else if (py::isinstance<PyPredictor>(predictor)) {
    rules = predictor.cast<const PyPredictor&>().rules();
  } else if (py::isinstance<py::str>(predictor)) {
    rules = PyPredictor(predictor.cast<std::string>(), version, predictors_dir).rules();
  } else {
    throw py::type_error("deepen.kernels: predictor is a name, a deepen.Predictor or None (the default fusion rules)");
  }
  LoadOptions load = load_options(input_shapes);
  ModelInput in = model_input(model, "<bytes>");
  std::vector<Kernel> kernels;
  {
    py::gil_scoped_release release;
    Graph graph = in.is_path() ? load_onnx(in.path, load) : load_onnx_bytes(in.bytes, in.label, load);
    kernels = detect_kernels(graph, *rules);
  }
  std::vector<PyKernel> out;
  out.reserve(kernels.size());
  for (auto& k : kernels) {
    std::string scored = rules->scored_as(k.type);
    out.push_back(PyKernel{std::move(k), std::move(scored), std::nullopt, Purpose::Energy});
  }
  return out;
}

py::object list_predictors(const std::optional<std::string>& predictors_dir) {
  const std::string dir = registry_dir(predictors_dir);
  Registry registry = load_registry(dir);
  std::ostringstream out;
  write_registry_json(out, registry);
  return json_loads(out.str())["predictors"];
}

}  // namespace
}  // namespace deepen::python

PYBIND11_MODULE(_core, m) {
  using namespace deepen;
  using namespace deepen::python;
  m.doc() = "deepen's C++ core: predictors, predictions and kernels (see the deepen package)";
  m.attr("__version__") = DEEPEN_VERSION;

  for (auto& e : g_exceptions) {
    PyObject* bases = e.cls == PyClass::Error ? PyExc_Exception
                      : e.extra_base ? PyTuple_Pack(2, exception_type(PyClass::Error), e.extra_base)
                                     : exception_type(PyClass::Error);
    e.type = PyErr_NewExceptionWithDoc(fmt::format("deepen.{}", e.name).c_str(), e.doc, bases, nullptr);
    if (!e.type) throw py::error_already_set();
    m.add_object(e.name, py::handle(e.type));  // the module keeps a reference
  }
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      set_python_error(class_of(e.kind()), e.what());
    } catch (const nlohmann::json::exception& e) {  // writing a report (the CLI's "internal error")
      set_python_error(PyClass::Error, (std::string("internal error: ") + e.what()).c_str());
    }
  });

  py::class_<PyKernel>(m, "Kernel",
                       "One kernel of a model: the fused ops a device's runtime executes as one, its configuration, "
                       "work and (in a prediction) its estimate.")
      .def_property_readonly("type", [](const PyKernel& k) { return k.kernel.type; },
                             "Kernel type, e.g. 'conv-bn-relu', 'dwconv-bn-relu6', 'other:LSTM'")
      .def_property_readonly("scored_as", &PyKernel::scored_as,
                             "The type whose predictor scored it (in a prediction: empty for zero-cost and uncovered "
                             "kernels), else the one the fusion rules name")
      .def_property_readonly("zero_cost", [](const PyKernel& k) { return k.kernel.zero_cost; },
                             "A layout op (Reshape, Flatten, ...): no work at run time")
      .def_property_readonly("nodes", [](const PyKernel& k) { return k.kernel.nodes; }, "The ONNX nodes it covers")
      .def_property_readonly("ops", [](const PyKernel& k) { return k.kernel.ops; }, "Their op types")
      .def_property_readonly("config", &PyKernel::config, "Its configuration: {'hw': 32, 'cin': 16, ...}")
      .def_property_readonly("features", &PyKernel::features, "The features its predictor reads, by name")
      .def_property_readonly("macs", [](const PyKernel& k) { return count(k.kernel.macs); }, "Multiply-accumulates")
      .def_property_readonly("flops", [](const PyKernel& k) { return count(k.kernel.flops); }, "FLOPs")
      .def_property_readonly("params", [](const PyKernel& k) { return count(k.kernel.params); }, "Weights and biases")
      .def_property_readonly("bytes", [](const PyKernel& k) { return count(k.kernel.bytes); },
                             "Bytes read and written (fp32)")
      .def_property_readonly("latency_ms", [](const PyKernel& k) { return k.value_of(Purpose::Latency); },
                             "Estimated latency (ms); None when not predicted or not known")
      .def_property_readonly("energy_mj", [](const PyKernel& k) { return k.value_of(Purpose::Energy); },
                             "Estimated energy (mJ); None when not predicted or not known")
      .def_property_readonly("power_mw", [](const PyKernel& k) { return k.value_of(Purpose::Power); },
                             "Estimated power (mW); None when not predicted or not known")
      .def_property_readonly("value", [](const PyKernel& k) { return k.value_of(k.purpose); },
                             "The estimate for the purpose asked, in its unit")
      .def_property_readonly(
          "source", [](const PyKernel& k) { return k.estimate ? py::object(py::str(source_name(k.estimate->source))) : py::object(py::none()); },
          "Where the number for the purpose asked came from: trained, fallback, zero-cost or uncovered")
      .def_property_readonly("sources", &PyKernel::sources, "The source of each purpose: {'latency': ..., ...}")
      .def_property_readonly("extrapolated", [](const PyKernel& k) { return k.estimate && k.estimate->extrapolated; },
                             "Its number came from a booster beyond the ranges it was trained on")
      .def_property_readonly("extrapolated_why",
                             [](const PyKernel& k) { return k.estimate ? k.estimate->extrapolated_why : std::string(); },
                             "Which features lie outside, e.g. 'hw 224 > 32'")
      .def("to_dict", &PyKernel::to_dict, "The kernel as a plain dict")
      .def("__repr__", &PyKernel::repr);

  py::class_<PyResult>(m, "Result",
                       "The prediction of one model: the number for the purpose asked, coverage and the kernels.")
      .def_property_readonly("model", [](const PyResult& r) { return r.report.model; }, "The path, or the label of bytes")
      .def_property_readonly("error", [](const PyResult& r) { return r.report.error.empty() ? py::object(py::none()) : py::object(py::str(r.report.error)); },
                             "Why the model has no result (predict_many(errors='keep')); None otherwise")
      .def_property_readonly("predictor", [](const PyResult& r) { return r.context.predictor; })
      .def_property_readonly("predictor_version", [](const PyResult& r) { return r.context.version; })
      .def_property_readonly("purpose", [](const PyResult& r) { return purpose_name(r.context.purpose); })
      .def_property_readonly("unit", [](const PyResult& r) { return purpose_unit(r.context.purpose); },
                             "ms, mJ or mW")
      .def_property_readonly("value", [](const PyResult& r) { return number_or_none(r.value()); },
                             "The estimate for the purpose asked, in `unit`")
      .def_property_readonly("latency_ms", [](const PyResult& r) { return number_or_none(r.report.latency_ms); })
      .def_property_readonly("energy_mj", [](const PyResult& r) { return number_or_none(r.report.energy_mj); })
      .def_property_readonly("power_mw", [](const PyResult& r) { return number_or_none(r.report.power_mw); })
      .def_property_readonly("coverage", [](const PyResult& r) { return r.report.coverage_kernels; },
                             "Share of the working kernels scored by a trained booster")
      .def_property_readonly("flop_coverage", [](const PyResult& r) { return r.report.coverage_flops; },
                             "Share of the FLOPs in kernels scored by a trained booster")
      .def_property_readonly("uncovered_share", [](const PyResult& r) { return r.report.uncovered_kernels; },
                             "Share of the working kernels nothing scored (they add nothing)")
      .def_property_readonly("uncovered_flop_share", [](const PyResult& r) { return r.report.uncovered_flops; })
      .def_property_readonly("source_shares",
                             [](const PyResult& r) { return source_shares(r.report, r.context.purpose); },
                             "Share of the estimate each source gave: {'trained': 0.9, 'fallback': 0.1}")
      .def_property_readonly("extrapolated_share", [](const PyResult& r) { return r.report.extrapolated_share; },
                             "Share of the estimate from kernels beyond their booster's training ranges")
      .def_property_readonly("kernel_count", [](const PyResult& r) { return r.report.kernel_count; },
                             "Kernels that do work")
      .def_property_readonly("macs", [](const PyResult& r) { return count(r.report.macs); })
      .def_property_readonly("flops", [](const PyResult& r) { return count(r.report.flops); })
      .def_property_readonly("params", [](const PyResult& r) { return count(r.report.params); })
      .def_property_readonly("kernels", &PyResult::kernels, "Every kernel with its estimate, in graph order")
      .def("to_dict", &PyResult::to_dict, py::arg("per_kernel") = true, py::arg("all_purposes") = false,
           "The model's entry of `deepen predict -f json` (per_kernel: with --per-kernel's kernel_list; "
           "all_purposes: as --all-purposes)")
      .def("__repr__", &PyResult::repr);

  py::class_<PyPredictor>(m, "Predictor",
                          "A predictor of the registry, loaded once; predict() and predict_many() score models.")
      .def(py::init<const std::string&, const std::optional<std::string>&, const std::optional<std::string>&>(),
           py::arg("name"), py::arg("version") = py::none(), py::arg("predictors_dir") = py::none())
      .def_property_readonly("name", [](const PyPredictor& p) { return p.entry().name; })
      .def_property_readonly("version", [](const PyPredictor& p) { return p.entry().version; })
      .def_property_readonly("device", [](const PyPredictor& p) { return p.entry().device; })
      .def_property_readonly("framework", [](const PyPredictor& p) { return p.entry().framework; })
      .def_property_readonly("purposes", [](const PyPredictor& p) { return p.entry().purposes; },
                             "The purposes it was trained for")
      .def_property_readonly("registry", &PyPredictor::registry_root, "The registry folder it came from")
      .def("supports", &PyPredictor::supports, py::arg("purpose"),
           "Whether it can give that purpose (trained for it, or through its fallback)")
      .def("predict", &PyPredictor::predict, py::arg("model"), py::arg("purpose") = "energy",
           py::arg("input_shapes") = py::none(), py::arg("use_fallback") = true, py::arg("label") = py::none(),
           "Predicts one model: a path or the bytes of an ONNX model")
      .def("predict_many", &PyPredictor::predict_many, py::arg("models"), py::arg("purpose") = "energy",
           py::arg("input_shapes") = py::none(), py::arg("use_fallback") = true, py::arg("threads") = 1,
           py::arg("errors") = "raise", py::arg("labels") = py::none(),
           "Predicts every model of a list in one call, in C++ (threads: workers, 0 for one per core)")
      .def("__repr__", &PyPredictor::repr);

  m.def("kernels", &model_kernels, py::arg("model"), py::arg("predictor") = py::none(),
        py::arg("version") = py::none(), py::arg("predictors_dir") = py::none(), py::arg("input_shapes") = py::none(),
        "The kernels of a model (path or bytes), by a predictor's fusion rules or the default ones");
  m.def("list_predictors", &list_predictors, py::arg("predictors_dir") = py::none(),
        "The registry's predictors, as `deepen list -f json` lists them");
  m.def("default_predictors_dir", &default_registry_dir, "The registry used when none is given");
  m.def(
      "to_json",
      [](const py::iterable& results, bool per_kernel, bool all_purposes) {
        std::vector<const PyResult*> list;
        for (const auto& r : results) {
          if (!py::isinstance<PyResult>(r)) throw py::type_error("deepen.to_json: give deepen.Result objects");
          list.push_back(&r.cast<const PyResult&>());
        }
        return results_json(list, per_kernel, all_purposes);
      },
      py::arg("results"), py::arg("per_kernel") = false, py::arg("all_purposes") = false,
      "The JSON document `deepen predict -f json` writes for these results");
  m.def(
      "_set_package_dir", [](const std::string& dir) { g_package_dir = dir; },
      "Where the package is, for the registry shipped with it (called by deepen/__init__.py)");
}
