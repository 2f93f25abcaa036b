// zoo/byte_sink.h: where the ONNX writer's bytes go, through one small buffer: a file descriptor
// or a string. Weights are drawn straight into the buffer (room/commit), so no copy of a model's
// weights is ever held in memory, and the buffer stays in cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace deepen::zoo {

class ByteSink {
 public:
  explicit ByteSink(std::string* out);  // appends to *out
  ByteSink(int fd, std::string label);  // writes to fd; label (the path) names it in errors
  ByteSink(const ByteSink&) = delete;
  ByteSink& operator=(const ByteSink&) = delete;

  // The number of bytes about to come: a string sink reserves them.
  void expect(uint64_t bytes);
  void put(const void* data, size_t n);
  void put_byte(uint8_t b) { put(&b, 1); }
  void put_varint(uint64_t v);
  // Free space at the end of the buffer, at least kMinRoom bytes: fill up to *n bytes, then
  // commit() how many were filled.
  char* room(size_t* n);
  void commit(size_t n) { used_ += n; }
  // n zero bytes: a file gets a hole where it can (long runs, a seekable file).
  void put_zeros(uint64_t n);
  // Writes out what the buffer holds. Throws Error when the file cannot take it.
  void flush();
  // Flushes, and gives a file that ends in a hole its full length.
  void finish();

  static constexpr size_t kMinRoom = 64;

 private:
  std::string* str_ = nullptr;
  int fd_ = -1;
  std::string label_;
  std::unique_ptr<char[]> buf_;
  size_t used_ = 0;
  bool ends_in_hole_ = false;
};

// The bytes of a protobuf varint.
inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, ++n;
  return n;
}

}  // namespace deepen::zoo
