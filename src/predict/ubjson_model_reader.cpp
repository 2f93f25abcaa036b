// XGBoost's UBJSON model format (what `deepen train` writes), read by hand into a RawModel. It
// walks XGBoost's layout (learner > gradient_booster > model > trees), decodes the typed arrays
// that scoring needs in one loop each and jumps over the ones it does not need (base_weights,
// loss_changes, sum_hessian: most of the file) without looking at their elements. The bytes are
// untrusted: every length and count is checked against the bytes left before it is used, nesting
// is bounded (kMaxModelDepth), and every problem ends the read with a message, never a crash.
#include "predict/raw_model.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace deepen {
namespace {

// A broken file; thrown inside the reader only and returned as its problem.
struct Broken {
  std::string what;
};

// Payload bytes of a scalar marker: 0 for null/no-op/booleans, -1 for anything else.
int scalar_size(char m) {
  switch (m) {
    case 'Z': case 'N': case 'T': case 'F': return 0;
    case 'i': case 'U': case 'C': return 1;
    case 'I': return 2;
    case 'l': case 'd': return 4;
    case 'L': case 'D': return 8;
    default: return -1;
  }
}

bool is_integer(char m) { return m == 'i' || m == 'U' || m == 'I' || m == 'l' || m == 'L'; }

struct Scalar {
  enum Kind { Int, Float, String, Other } kind = Other;
  int64_t i = 0;
  double f = 0;
  std::string_view s;
};

class UbjsonModelReader {
 public:
  UbjsonModelReader(const char* data, size_t size, RawModel* m)
      : b_(reinterpret_cast<const unsigned char*>(data)), size_(size), m_(m) {}

  void read() {
    if (marker() != '{') fail("not a UBJSON object");
    object([&](std::string_view key, char m) {
      if (key == "learner" && m == '{') learner();
      else skip(m);
    });
    if (p_ != size_) fail(fmt::format("data after the end of the model ({} bytes)", size_ - p_));
  }

  [[noreturn]] void fail(const std::string& what) const { throw Broken{what}; }

 private:
  // ---- the model's layout; each reader starts after its container's opening marker

  void learner() {
    object([&](std::string_view key, char m) {
      if (key == "learner_model_param" && m == '{') params(&m_->learner_param);
      else if (key == "objective" && m == '{') named(&m_->objective);
      else if (key == "gradient_booster" && m == '{') gradient_booster();
      else skip(m);
    });
  }

  // Parameters, which XGBoost keeps as strings; nested containers are not parameters.
  void params(std::map<std::string, std::string>* out) {
    object([&](std::string_view key, char m) {
      if (m == '{' || m == '[') skip(m);
      else text(scalar(m), &(*out)[std::string(key)], &m_->bad_value);
    });
  }

  // An object whose "name" member is wanted (objective, and the booster's own name).
  void named(std::string* name) {
    object([&](std::string_view key, char m) {
      if (key == "name" && m != '{' && m != '[') text(scalar(m), name, &m_->bad_value);
      else skip(m);
    });
  }

  void gradient_booster() {
    object([&](std::string_view key, char m) {
      if (key == "name" && m != '{' && m != '[') text(scalar(m), &m_->booster, &m_->bad_value);
      else if (key == "model" && m == '{') model();
      else if (key == "gbtree" && m == '{') {  // dart wraps a gbtree
        object([&](std::string_view k, char n) {
          if (k == "model" && n == '{') model();
          else skip(n);
        });
      } else if (key == "weight_drop" && m == '[') {
        array([&](char n) {
          if (n == '{' || n == '[') return skip(n);
          Scalar v = scalar(n);
          if (v.kind != Scalar::Int && v.kind != Scalar::Float) m_->bad_value = true;
          m_->has_weight_drop = true;
          m_->weight_drop.push_back(v.f);
        });
      } else {
        skip(m);
      }
    });
  }

  void model() {
    object([&](std::string_view key, char m) {
      if (key == "gbtree_model_param" && m == '{') {
        params(&m_->gbtree_param);
      } else if (key == "tree_info" && m == '[') {
        integers(&m_->tree_info, &m_->bad_value);
      } else if (key == "trees" && m == '[') {
        array([&](char n) {
          if (n != '{') return skip(n);
          m_->trees.emplace_back();
          tree(m_->trees.back());
        });
      } else {
        skip(m);
      }
    });
  }

  void tree(RawTree& t) {
    object([&](std::string_view key, char m) {
      const bool container = m == '{' || m == '[';
      if (key == "id" && !container) {
        Scalar v = scalar(m);
        if (v.kind != Scalar::Int) t.bad_value = true;
        t.has_id = true;
        t.id = v.i;
      } else if (key == "tree_param" && m == '{') {
        object([&](std::string_view k, char n) {
          if (n == '{' || n == '[') skip(n);
          else if (k == "num_nodes") text(scalar(n), &t.num_nodes, &m_->bad_value);
          else if (k == "size_leaf_vector") text(scalar(n), &t.size_leaf_vector, &m_->bad_value);
          else scalar(n);
        });
      } else if (m == '[' && key == "split_conditions") {
        conditions(t);
      } else if (std::vector<int64_t>* ints = m == '[' ? node_integers(key, t) : nullptr) {
        integers(ints, &t.bad_value);
      } else if (m == '[' && key.substr(0, 10) == "categories") {
        array([&](char n) {
          if (n == '{' || n == '[') return skip(n);
          scalar(n);
          t.categorical = true;
        });
      } else {
        skip(m);
      }
    });
  }

  // The per-node integer arrays scoring needs; null when `key` names none of them.
  static std::vector<int64_t>* node_integers(std::string_view key, RawTree& t) {
    if (key == "left_children") return &t.left;
    if (key == "right_children") return &t.right;
    if (key == "split_indices") return &t.split;
    if (key == "parents") return &t.parents;
    if (key == "default_left") return &t.default_left;
    if (key == "split_type") return &t.split_type;
    return nullptr;
  }

  // The split thresholds and leaf values, as floats; anything but a number marks the tree bad.
  void conditions(RawTree& t) {
    Container c = open(false);
    if (c.type == 'd') {  // the usual form: [$d#n big-endian float32s
      const size_t n = static_cast<size_t>(c.left), old = t.conditions.size();
      t.conditions.resize(old + n);
      for (size_t k = 0; k < n; ++k) t.conditions[old + k] = as_float(big_endian_at<uint32_t>(b_ + p_ + 4 * k));
      p_ += 4 * n;
      close(c);
      return;
    }
    if (c.type && scalar_size(c.type) > 0) {
      if (!is_integer(c.type) && c.type != 'D') t.bad_value = true;
      for (; c.left > 0; --c.left) t.conditions.push_back(static_cast<float>(scalar(c.type).f));
      close(c);
      return;
    }
    elements(c, [&](char n) {
      if (n == '{' || n == '[') return skip(n);
      Scalar v = scalar(n);
      if (v.kind != Scalar::Int && v.kind != Scalar::Float) t.bad_value = true;
      t.conditions.push_back(static_cast<float>(v.f));
    });
  }

  // An array of integers; any other element marks `bad`.
  void integers(std::vector<int64_t>* out, bool* bad) {
    Container c = open(false);
    if (c.type == 'l' || c.type == 'U') {  // XGBoost's forms: [$l#n big-endian int32s, [$U#n bytes
      const size_t n = static_cast<size_t>(c.left), old = out->size();
      out->resize(old + n);
      int64_t* o = out->data() + old;
      const unsigned char* q = b_ + p_;
      if (c.type == 'U') {
        for (size_t k = 0; k < n; ++k) o[k] = q[k];
      } else {
        for (size_t k = 0; k < n; ++k) o[k] = static_cast<int32_t>(big_endian_at<uint32_t>(q + 4 * k));
      }
      p_ += n * static_cast<size_t>(scalar_size(c.type));
      close(c);
      return;
    }
    if (c.type && scalar_size(c.type) > 0) {
      if (!is_integer(c.type)) *bad = true;
      for (; c.left > 0; --c.left) out->push_back(scalar(c.type).i);
      close(c);
      return;
    }
    elements(c, [&](char n) {
      if (n == '{' || n == '[') return skip(n);
      Scalar v = scalar(n);
      if (v.kind != Scalar::Int) *bad = true;
      out->push_back(v.i);
    });
  }

  // XGBoost's parameters are strings; integers are taken as their digits.
  static void text(const Scalar& v, std::string* out, bool* bad) {
    if (v.kind == Scalar::String) out->assign(v.s);
    else if (v.kind == Scalar::Int) *out = std::to_string(v.i);
    else *bad = true;
  }

  // ---- UBJSON

  struct Container {
    bool object = false;
    char type = 0;      // the '$' type of a typed container, or 0
    int64_t left = -1;  // elements left in a counted container, -1 when a marker closes it
  };

  size_t left_bytes() const { return size_ - p_; }

  void need(uint64_t n) const {
    if (n > left_bytes()) fail(fmt::format("UBJSON ends early at byte {}", size_));
  }

  // Typed arrays of numbers were checked whole against the bytes left (open()).
  template <class T>
  static T big_endian_at(const unsigned char* q) {
    T v = 0;
    for (size_t k = 0; k < sizeof(T); ++k) v = static_cast<T>((v << 8) | q[k]);
    return v;
  }

  static float as_float(uint32_t bits) {
    float x;
    std::memcpy(&x, &bits, sizeof x);
    return x;
  }

  char byte() {
    need(1);
    return static_cast<char>(b_[p_++]);
  }

  // The next marker, skipping no-ops.
  char marker() {
    char m = byte();
    while (m == 'N') m = byte();
    return m;
  }

  uint64_t big_endian(int width) {
    need(static_cast<uint64_t>(width));
    uint64_t v = 0;
    for (int k = 0; k < width; ++k) v = (v << 8) | b_[p_ + static_cast<size_t>(k)];
    p_ += static_cast<size_t>(width);
    return v;
  }

  int64_t integer(char m) {
    switch (m) {
      case 'i': return static_cast<int8_t>(big_endian(1));
      case 'U': return static_cast<int64_t>(big_endian(1));
      case 'I': return static_cast<int16_t>(big_endian(2));
      case 'l': return static_cast<int32_t>(big_endian(4));
      case 'L': return static_cast<int64_t>(big_endian(8));
      default: fail(fmt::format("a length of type '{}' at byte {}", printable(m), p_));
    }
  }

  // A length or count: an integer marker and a value that is not negative.
  int64_t length() {
    int64_t n = integer(marker());
    if (n < 0) fail(fmt::format("a negative length at byte {}", p_));
    return n;
  }

  static std::string printable(char m) {
    return m >= 0x20 && m < 0x7f ? std::string(1, m) : fmt::format("\\x{:02x}", static_cast<unsigned char>(m));
  }

  std::string_view chars(int64_t n) {
    need(static_cast<uint64_t>(n));
    std::string_view s(reinterpret_cast<const char*>(b_ + p_), static_cast<size_t>(n));
    p_ += static_cast<size_t>(n);
    return s;
  }

  // The value of a scalar whose marker `m` was just read.
  Scalar scalar(char m) {
    Scalar v;
    switch (m) {
      case 'Z': break;
      case 'T': case 'F':
        v.kind = Scalar::Int;
        v.i = m == 'T';
        v.f = static_cast<double>(v.i);
        break;
      case 'i': case 'U': case 'I': case 'l': case 'L':
        v.kind = Scalar::Int;
        v.i = integer(m);
        v.f = static_cast<double>(v.i);
        break;
      case 'd':
        v.kind = Scalar::Float;
        v.f = as_float(static_cast<uint32_t>(big_endian(4)));
        break;
      case 'D': {
        uint64_t bits = big_endian(8);
        std::memcpy(&v.f, &bits, sizeof v.f);
        v.kind = Scalar::Float;
        break;
      }
      case 'C':
        v.kind = Scalar::String;
        v.s = chars(1);
        break;
      case 'S':
        v.kind = Scalar::String;
        v.s = chars(length());
        break;
      case 'H':  // a high-precision number as digits: XGBoost never writes one
        chars(length());
        break;
      default:
        fail(fmt::format("an unknown UBJSON marker '{}' at byte {}", printable(m), p_ - 1));
    }
    return v;
  }

  // After '[' or '{': the optional $type and #count. Opening counts towards the nesting depth.
  Container open(bool object) {
    if (++depth_ > kMaxModelDepth) fail(fmt::format("nested more than {} deep", kMaxModelDepth));
    Container c;
    c.object = object;
    need(1);
    if (b_[p_] == '$') {
      ++p_;
      c.type = byte();
      // Elements of no bytes would let a few bytes ask for 2^60 of them.
      if (scalar_size(c.type) <= 0 && c.type != 'S' && c.type != 'H' && c.type != '[' && c.type != '{')
        fail(fmt::format("a typed UBJSON container of '{}' at byte {}", printable(c.type), p_ - 1));
      need(1);
      if (b_[p_] != '#') fail(fmt::format("a typed UBJSON container without a count at byte {}", p_));
    }
    need(1);
    if (b_[p_] == '#') {
      ++p_;
      c.left = length();
      // Every element takes at least one byte (the whole payload, for a typed array of numbers).
      uint64_t per = c.type && !object && scalar_size(c.type) > 0 ? static_cast<uint64_t>(scalar_size(c.type)) : 1;
      if (static_cast<uint64_t>(c.left) > left_bytes() / per)
        fail(fmt::format("a count of {} at byte {} that the {} bytes left cannot hold", c.left, p_, left_bytes()));
    }
    return c;
  }

  // Whether the container has another element; at its end, consumes the closing marker.
  bool next(Container& c) {
    if (c.left >= 0) {
      if (c.left == 0) return false;
      --c.left;
      return true;
    }
    need(1);
    while (b_[p_] == 'N') {
      ++p_;
      need(1);
    }
    if (b_[p_] == (c.object ? '}' : ']')) {
      ++p_;
      c.left = 0;
      return false;
    }
    return true;
  }

  void close(const Container&) { --depth_; }

  char element_marker(const Container& c) { return c.type ? c.type : marker(); }

  // f(marker) for each element of an opened array.
  template <class F>
  void elements(Container& c, F&& f) {
    while (next(c)) f(element_marker(c));
    close(c);
  }

  template <class F>
  void array(F&& f) {
    Container c = open(false);
    elements(c, f);
  }

  // f(key, marker) for each member of an object whose '{' was just read.
  template <class F>
  void object(F&& f) {
    Container c = open(true);
    while (next(c)) {
      std::string_view key = chars(length());
      f(key, element_marker(c));
    }
    close(c);
  }

  // Jumps over a value whose marker `m` was just read.
  void skip(char m) {
    if (m != '[' && m != '{') {
      scalar(m);
      return;
    }
    Container c = open(m == '{');
    if (c.type && !c.object && scalar_size(c.type) > 0) {  // checked against the bytes left by open()
      p_ += static_cast<size_t>(c.left) * static_cast<size_t>(scalar_size(c.type));
      close(c);
      return;
    }
    while (next(c)) {
      if (c.object) chars(length());
      skip(element_marker(c));
    }
    close(c);
  }

  const unsigned char* b_;
  size_t size_;
  size_t p_ = 0;
  size_t depth_ = 0;
  RawModel* m_;
};

}  // namespace

std::string read_ubjson_model(const char* data, size_t size, RawModel* out) {
  try {
    UbjsonModelReader(data, size, out).read();
  } catch (const Broken& b) {
    return "not valid UBJSON: " + b.what;
  }
  return "";
}

}  // namespace deepen
