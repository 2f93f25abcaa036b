#include "zoo/byte_sink.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace deepen::zoo {
namespace {

// Small enough to stay in a core's L2 cache while weights are drawn into it, large enough that
// a write() call moves plenty.
constexpr size_t kBufferBytes = 256 * 1024;
// Zero runs from this long become holes in a file (shorter ones are not worth a system call).
constexpr uint64_t kMinHole = 64 * 1024;

}  // namespace

ByteSink::ByteSink(std::string* out) : str_(out), buf_(new char[kBufferBytes]) {}

ByteSink::ByteSink(int fd, std::string label) : fd_(fd), label_(std::move(label)), buf_(new char[kBufferBytes]) {}

void ByteSink::expect(uint64_t bytes) {
  if (str_) str_->reserve(str_->size() + bytes);
}

void ByteSink::put(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    if (used_ == kBufferBytes) flush();
    size_t k = std::min(n, kBufferBytes - used_);
    std::memcpy(buf_.get() + used_, p, k);
    used_ += k, p += k, n -= k;
  }
}

void ByteSink::put_varint(uint64_t v) {
  uint8_t bytes[10];
  size_t n = 0;
  while (v >= 0x80) bytes[n++] = static_cast<uint8_t>(v | 0x80), v >>= 7;
  bytes[n++] = static_cast<uint8_t>(v);
  put(bytes, n);
}

char* ByteSink::room(size_t* n) {
  if (kBufferBytes - used_ < kMinRoom) flush();
  *n = kBufferBytes - used_;
  return buf_.get() + used_;
}

void ByteSink::flush() {
  if (str_) {
    str_->append(buf_.get(), used_);
    used_ = 0;
    return;
  }
  const char* p = buf_.get();
  size_t left = used_;
  while (left > 0) {
    ssize_t w = ::write(fd_, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      throw Error(fmt::format("{}: error while writing the model ({}; disk full?)", label_,
                              w < 0 ? std::strerror(errno) : "nothing written"));
    p += w, left -= static_cast<size_t>(w);
  }
  if (used_ > 0) ends_in_hole_ = false;
  used_ = 0;
}

void ByteSink::put_zeros(uint64_t n) {
  if (fd_ >= 0 && n >= kMinHole) {
    flush();
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) >= 0) {
      ends_in_hole_ = true;
      return;
    }
    // A pipe cannot seek: the zeros are written.
  }
  while (n > 0) {
    size_t room = kBufferBytes - used_;
    if (room == 0) flush(), room = kBufferBytes;
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, room));
    std::memset(buf_.get() + used_, 0, k);
    used_ += k, n -= k;
  }
}

void ByteSink::finish() {
  flush();
  if (!ends_in_hole_) return;
  off_t end = ::lseek(fd_, 0, SEEK_CUR);
  if (end < 0 || ::ftruncate(fd_, end) != 0)
    throw Error(fmt::format("{}: error while writing the model ({}; disk full?)", label_, std::strerror(errno)));
}

}  // namespace deepen::zoo
