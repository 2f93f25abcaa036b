// ONNX's shape inference in a worker process, forked once and kept for the next model: a model
// goes to it over a socket and comes back inferred. A worker that crashes is reaped, its signal
// becomes the model's error, and the next model gets a new worker.
#include "graph/onnx_shape_inference.h"

#include <deepen/error.h>

#include <fmt/format.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <new>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// Present when a sanitizer runtime is linked in (the sanitizer and fuzz builds), null otherwise.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace deepen {
namespace {

// Messages: a status byte, a 64-bit length, then that many bytes. To the worker: kPropagate or
// kPlain and the model; from it: kInferred and the model, or kFailed and ONNX's message.
constexpr char kPropagate = 'P', kPlain = 'N', kInferred = 'M', kFailed = 'E';
// ONNX's inference of any model deepen reads takes well under a second; one that runs past this
// is stopped and its model refused (a hang must not stall a whole folder's run).
constexpr int kTimeoutMs = 60'000;

bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool send_message(int fd, char status, const std::string& body) {
  const uint64_t size = body.size();
  char head[1 + sizeof size];
  head[0] = status;
  std::memcpy(head + 1, &size, sizeof size);
  return send_all(fd, head, sizeof head) && send_all(fd, body.data(), body.size());
}

enum class Received { Message, Closed, TimedOut };

// Reads exactly `size` bytes; `timeout_ms` < 0 waits for ever.
Received receive_all(int fd, char* data, size_t size, int timeout_ms) {
  while (size > 0) {
    if (timeout_ms >= 0) {
      pollfd p{fd, POLLIN, 0};
      const int ready = ::poll(&p, 1, timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) return Received::TimedOut;
      if (ready < 0) return Received::Closed;
    }
    const ssize_t n = ::recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Received::Closed;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Received::Message;
}

Received receive_message(int fd, char* status, std::string* body, int timeout_ms) {
  char head[1 + sizeof(uint64_t)];
  Received r = receive_all(fd, head, sizeof head, timeout_ms);
  if (r != Received::Message) return r;
  uint64_t size = 0;
  std::memcpy(&size, head + 1, sizeof size);
  if (size > static_cast<uint64_t>(std::numeric_limits<int>::max())) return Received::Closed;
  *status = head[0];
  body->resize(size);
  return receive_all(fd, body->data(), size, timeout_ms);
}

// A crash in the worker must end the worker only: the parent's crash handlers (a fuzzer's, a
// sanitizer's death callback) would report it as deepen's own crash, or write a crash file.
void use_default_crash_handling() {
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) ::signal(sig, SIG_DFL);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(nullptr);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// The memory ONNX's inference may take beyond what the worker holds when it starts, in MiB:
// DEEPEN_ONNX_INFERENCE_MEMORY_MB, else 4096. Shape inference of any real model takes a few MB;
// a damaged one that asks for gigabytes (data propagation over a huge constant) gets
// std::bad_alloc instead of taking the machine's memory.
uint64_t inference_memory_mb() {
  const char* env = std::getenv("DEEPEN_ONNX_INFERENCE_MEMORY_MB");
  if (env && *env) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (end && *end == '\0' && v > 0) return v;
  }
  return 4096;
}

// The worker's data size now (VmData of /proc/self/status), in bytes; 0 when unknown.
uint64_t data_size_now() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  unsigned long long kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmData: %llu kB", &kb) == 1) break;
  std::fclose(f);
  return uint64_t{kb} * 1024;
}

// Bounds the worker's data (heap and anonymous mappings) to what it has plus `extra_mb`. Not under
// AddressSanitizer, whose shadow memory counts as data.
void limit_memory(uint64_t extra_mb) {
  if (kAddressSanitizer) return;
  const uint64_t now = data_size_now();
  if (now == 0) return;
  rlimit limit{};
  limit.rlim_cur = limit.rlim_max = now + extra_mb * 1024 * 1024;
  ::setrlimit(RLIMIT_DATA, &limit);
}

// The worker: infer each model it is sent until the socket closes, then leave without running
// the parent's exit handlers or flushing its stdio buffers (they would print twice).
[[noreturn]] void serve(int fd) {
  use_default_crash_handling();
  const uint64_t memory_mb = inference_memory_mb();
  limit_memory(memory_mb);
  char mode = 0;
  std::string request;
  while (receive_message(fd, &mode, &request, -1) == Received::Message) {
    char status = kInferred;
    std::string answer;
    try {
      onnx::ModelProto model;
      if (!model.ParseFromString(request)) throw std::runtime_error("the model sent to the worker does not parse");
      onnx::ShapeInferenceOptions options(false, 0, mode == kPropagate);
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
      if (!model.SerializeToString(&answer)) throw std::runtime_error("the inferred model does not serialize");
    } catch (const std::bad_alloc&) {
      status = kFailed;
      answer = fmt::format("it needed more than {} MiB of memory (DEEPEN_ONNX_INFERENCE_MEMORY_MB raises the bound)",
                           memory_mb);
    } catch (const std::exception& e) {
      status = kFailed;
      answer = e.what();
    } catch (...) {
      status = kFailed;
      answer = "an unknown exception";
    }
    if (!send_message(fd, status, answer)) break;
  }
  _exit(0);
}

std::string describe_end(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return fmt::format("it crashed with signal {}{}{}", sig, name ? " SIG" : "", name ? name : "");
  }
  if (WIFEXITED(status)) return fmt::format("it exited with status {}", WEXITSTATUS(status));
  return "it ended abnormally";
}

class Worker {
 public:
  ~Worker() { stop(); }

  // The inferred model's bytes; throws Error when inference fails or the worker dies.
  std::string infer(const std::string& model, bool data_propagation, const std::string& label) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pid_ < 0) start(label);
    char status = 0;
    std::string answer;
    Received r = Received::Closed;
    if (send_message(fd_, data_propagation ? kPropagate : kPlain, model))
      r = receive_message(fd_, &status, &answer, kTimeoutMs);
    if (r == Received::Message) {
      if (status == kInferred) return answer;
      throw Error::in_file(label, fmt::format("ONNX shape inference failed: {}", answer));
    }
    if (r == Received::TimedOut) ::kill(pid_, SIGKILL);
    const int end = stop();
    throw Error::in_file(
        label,
        fmt::format("ONNX shape inference failed: {} on this model, which is malformed in a way deepen's own checks do "
                    "not name (onnx.checker.check_model(model, full_check=True) may say more)",
                    r == Received::TimedOut ? fmt::format("it ran past {} s", kTimeoutMs / 1000) : describe_end(end)));
  }

 private:
  void start(const std::string& label) {
    (void)onnx::OpSchemaRegistry::Instance();  // built here once: every worker inherits it
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      throw Error::in_file(ErrorKind::Internal, label,
                           fmt::format("cannot start ONNX shape inference: socketpair: {}", std::strerror(errno)));
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      throw Error::in_file(ErrorKind::Internal, label,
                           fmt::format("cannot start ONNX shape inference: fork: {}", std::strerror(err)));
    }
    if (pid == 0) {
      ::close(fds[0]);
      serve(fds[1]);
    }
    ::close(fds[1]);
    pid_ = pid;
    fd_ = fds[0];
  }

  // Closes the socket (a live worker then leaves) and reaps the worker: its wait status.
  int stop() {
    if (pid_ < 0) return 0;
    ::close(fd_);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    fd_ = -1;
    return status;
  }

  std::mutex mutex_;
  pid_t pid_ = -1;
  int fd_ = -1;
};

}  // namespace

void run_onnx_shape_inference(onnx::ModelProto& model, const std::string& label, bool data_propagation) {
  static Worker worker;
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw Error::in_file(label, "ONNX shape inference failed: the model does not serialize");
  const std::string inferred = worker.infer(bytes, data_propagation, label);
  model.Clear();
  if (!model.ParseFromString(inferred))
    throw Error::in_file(ErrorKind::Internal, label, "ONNX shape inference failed: its answer does not parse");
}

}  // namespace deepen
