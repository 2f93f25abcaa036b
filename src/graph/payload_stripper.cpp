#include "graph/payload_stripper.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <unistd.h>

namespace deepen {
namespace {

// The messages of onnx.proto whose fields lead to tensors.
enum class Message { Model, Graph, Node, Attribute, Tensor, Function };

constexpr int kMaxDepth = 64;

// Bytes in memory.
class MemorySource {
 public:
  explicit MemorySource(std::string_view in) : in_(in) {}
  int byte(size_t pos) { return static_cast<uint8_t>(in_[pos]); }
  bool append(std::string& out, size_t from, size_t to) {
    out.append(in_.data() + from, to - from);
    return true;
  }

 private:
  std::string_view in_;
};

// Bytes of a file, read through a small window: a payload longer than the window is never read.
class FileSource {
 public:
  explicit FileSource(int fd) : fd_(fd) {}
  int byte(size_t pos) {
    if (pos - start_ >= length_ && !fill(pos)) return -1;
    return static_cast<uint8_t>(window_[pos - start_]);
  }
  bool append(std::string& out, size_t from, size_t to) {
    while (from < to) {
      if (from - start_ < length_) {
        size_t n = std::min(to, start_ + length_) - from;
        out.append(window_ + (from - start_), n);
        from += n;
      } else if (to - from >= kWindow) {  // straight into out
        size_t at = out.size();
        out.resize(at + (to - from));
        if (!read_fully(out.data() + at, to - from, from)) return false;
        from = to;
      } else if (!fill(from)) {
        return false;
      }
    }
    return true;
  }

 private:
  static constexpr size_t kWindow = 4096;
  bool fill(size_t pos) {
    ssize_t n;
    do n = ::pread(fd_, window_, kWindow, static_cast<off_t>(pos));
    while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    start_ = pos;
    length_ = static_cast<size_t>(n);
    return true;
  }
  bool read_fully(char* to, size_t n, size_t pos) {
    while (n > 0) {
      ssize_t got = ::pread(fd_, to, n, static_cast<off_t>(pos));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      to += got;
      pos += static_cast<size_t>(got);
      n -= static_cast<size_t>(got);
    }
    return true;
  }
  int fd_;
  size_t start_ = 0, length_ = 0;
  char window_[kWindow];
};

template <class Source>
class Stripper {
 public:
  Stripper(Source& source, size_t threshold) : source_(source), threshold_(threshold) {}

  // Appends the stripped form of the message in [begin, end) to out; false when the bytes are
  // not well-formed (or cannot be read). One pass: a stripped submessage is written in place
  // after room for its length, which is filled in (and the body moved up when the length came
  // out shorter) once its size is known.
  bool copy(size_t begin, size_t end, Message type, std::string& out, int depth) {
    if (depth > kMaxDepth) return false;
    size_t pos = begin, run_start = begin;  // [run_start, pos) is copied as it is
    while (pos < end) {
      size_t field_start = pos;
      std::optional<uint64_t> key = varint(end, pos);
      if (!key) return false;
      uint32_t field = static_cast<uint32_t>(*key >> 3);
      int wire = static_cast<int>(*key & 7);
      size_t key_end = pos;
      switch (wire) {
        case 0:
          if (!varint(end, pos)) return false;
          break;
        case 1:
          if (end - pos < 8) return false;
          pos += 8;
          break;
        case 5:
          if (end - pos < 4) return false;
          pos += 4;
          break;
        case 2: {
          std::optional<uint64_t> length = varint(end, pos);
          if (!length || *length > end - pos) return false;
          size_t body = pos;
          pos += *length;
          if (type == Message::Tensor && is_payload(field)) {
            if (*length > threshold_) {  // drop the field
              if (!source_.append(out, run_start, field_start)) return false;
              run_start = pos;
            }
          } else if (std::optional<Message> sub = *length > threshold_ ? submessage(type, field) : std::nullopt) {
            // A message no larger than the threshold holds no payload worth dropping: copied whole.
            if (!source_.append(out, run_start, key_end)) return false;
            const size_t room = varint_size(*length);  // the stripped length is no longer
            const size_t length_at = out.size();
            out.append(room, '\0');
            if (!copy(body, pos, *sub, out, depth + 1)) return false;
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
    return source_.append(out, run_start, pos);
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

  std::optional<uint64_t> varint(size_t end, size_t& pos) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) return std::nullopt;
      int byte = source_.byte(pos++);
      if (byte < 0) return std::nullopt;
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

  Source& source_;
  size_t threshold_;
};

}  // namespace

void strip_tensor_payloads(std::string_view model_bytes, std::string& out, size_t threshold_bytes) {
  out.clear();
  MemorySource source(model_bytes);
  Stripper<MemorySource> stripper(source, threshold_bytes);
  if (!stripper.copy(0, model_bytes.size(), Message::Model, out, 0)) out.assign(model_bytes);
}

std::string strip_tensor_payloads(std::string_view model_bytes, size_t threshold_bytes) {
  std::string out;
  out.reserve(std::min<size_t>(model_bytes.size(), 1 << 20));
  strip_tensor_payloads(model_bytes, out, threshold_bytes);
  return out;
}

bool strip_tensor_payloads_from_file(int fd, size_t file_size, std::string& out, size_t threshold_bytes) {
  out.clear();
  FileSource source(fd);
  Stripper<FileSource> stripper(source, threshold_bytes);
  return stripper.copy(0, file_size, Message::Model, out, 0);
}

}  // namespace deepen
