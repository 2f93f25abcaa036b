#include "graph/payload_stripper.h"

#include <cstdint>
#include <optional>

namespace deepen {
namespace {

// The messages of onnx.proto whose fields lead to tensors.
enum class Message { Model, Graph, Node, Attribute, Tensor, Function };

constexpr int kMaxDepth = 64;

class Stripper {
 public:
  explicit Stripper(size_t threshold) : threshold_(threshold) {}

  // Appends the stripped form of a message to out; false when the bytes are not well-formed.
  // One pass: a stripped submessage is written in place after room for its length, which is
  // filled in (and the body moved up when the length came out shorter) once its size is known.
  bool copy(std::string_view in, Message type, std::string& out, int depth) {
    if (depth > kMaxDepth) return false;
    size_t pos = 0, run_start = 0;  // [run_start, pos) is copied as it is
    while (pos < in.size()) {
      size_t field_start = pos;
      std::optional<uint64_t> key = varint(in, pos);
      if (!key) return false;
      uint32_t field = static_cast<uint32_t>(*key >> 3);
      int wire = static_cast<int>(*key & 7);
      size_t key_end = pos;
      switch (wire) {
        case 0:
          if (!varint(in, pos)) return false;
          break;
        case 1:
          if (in.size() - pos < 8) return false;
          pos += 8;
          break;
        case 5:
          if (in.size() - pos < 4) return false;
          pos += 4;
          break;
        case 2: {
          std::optional<uint64_t> length = varint(in, pos);
          if (!length || *length > in.size() - pos) return false;
          std::string_view body = in.substr(pos, *length);
          pos += *length;
          if (type == Message::Tensor && is_payload(field)) {
            if (*length > threshold_) {  // drop the field
              out.append(in.data() + run_start, field_start - run_start);
              run_start = pos;
            }
          } else if (std::optional<Message> sub = *length > threshold_ ? submessage(type, field) : std::nullopt) {
            // A message no larger than the threshold holds no payload worth dropping: copied whole.
            out.append(in.data() + run_start, key_end - run_start);
            const size_t room = varint_size(*length);  // the stripped length is no longer
            const size_t length_at = out.size();
            out.append(room, '\0');
            if (!copy(body, *sub, out, depth + 1)) return false;
            const size_t inner = out.size() - length_at - room;
            const size_t width = varint_size(inner);
            if (width < room) out.erase(length_at + width, room - width);
            put_varint(&out[length_at], inner);
            run_start = pos;
          }
          break;
        }
        default:
          return false;  // groups (3, 4) do not occur in ONNX
      }
    }
    out.append(in.data() + run_start, pos - run_start);
    return true;
  }

 private:
  static bool is_payload(uint32_t field) {
    // float_data 4, int32_data 5, string_data 6, int64_data 7, raw_data 9, double_data 10,
    // uint64_data 11.
    return field == 4 || field == 5 || field == 6 || field == 7 || field == 9 || field == 10 || field == 11;
  }

  static std::optional<Message> submessage(Message type, uint32_t field) {
    switch (type) {
      case Message::Model:
        if (field == 7) return Message::Graph;
        if (field == 25) return Message::Function;
        break;
      case Message::Graph:
        if (field == 1) return Message::Node;
        if (field == 5) return Message::Tensor;
        break;
      case Message::Function:
        if (field == 7) return Message::Node;
        break;
      case Message::Node:
        if (field == 5) return Message::Attribute;
        break;
      case Message::Attribute:
        if (field == 5 || field == 10) return Message::Tensor;
        if (field == 6 || field == 11) return Message::Graph;
        break;
      case Message::Tensor:
        break;
    }
    return std::nullopt;
  }

  static std::optional<uint64_t> varint(std::string_view in, size_t& pos) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= in.size()) return std::nullopt;
      uint8_t byte = static_cast<uint8_t>(in[pos++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return value;
    }
    return std::nullopt;
  }

  static size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }

  static void put_varint(char* out, uint64_t v) {
    while (v >= 0x80) {
      *out++ = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    *out = static_cast<char>(v);
  }

  size_t threshold_;
};

}  // namespace

void strip_tensor_payloads(std::string_view model_bytes, std::string& out, size_t threshold_bytes) {
  out.clear();
  Stripper stripper(threshold_bytes);
  if (!stripper.copy(model_bytes, Message::Model, out, 0)) out.assign(model_bytes);
}

std::string strip_tensor_payloads(std::string_view model_bytes, size_t threshold_bytes) {
  std::string out;
  out.reserve(std::min<size_t>(model_bytes.size(), 1 << 20));
  strip_tensor_payloads(model_bytes, out, threshold_bytes);
  return out;
}

}  // namespace deepen
