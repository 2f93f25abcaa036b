// Writing many models at once: on several threads, reported in index order, with the same files
// whatever the number of threads (each file depends only on its own index).
#include <deepen/zoo.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

namespace deepen {

void write_in_parallel(int n, int threads, const std::function<std::string(int)>& write,
                       const std::function<void(const std::string&)>& written) {
  if (n <= 0) return;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, n);
  std::atomic<int> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::optional<std::string>> paths(static_cast<size_t>(n));
  int reported = 0, failed = n;
  std::exception_ptr error;
  auto work = [&] {
    // Indices are taken in increasing order and every taken one is finished, so when index i
    // fails, all before it are written and reported.
    while (!stop) {
      int i = next++;
      if (i >= n) break;
      try {
        std::string path = write(i);
        std::lock_guard<std::mutex> lock(mutex);
        paths[static_cast<size_t>(i)] = std::move(path);
        for (; reported < failed && reported < n && paths[static_cast<size_t>(reported)]; ++reported)
          if (written) written(*paths[static_cast<size_t>(reported)]);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (i < failed) failed = i, error = std::current_exception();
        stop = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

void write_family(const std::string& family, int variants, uint64_t seed, const std::string& dir, int threads,
                  ZooWeights weights, const std::function<void(const std::string&)>& written) {
  build_family(family);  // an unknown family is an error before any thread starts
  write_in_parallel(
      variants + 1, threads,
      [&](int i) {
        // 0 is the reference network; i > 0 is variant i - 1, whose weights come from seed + i.
        Graph g = i == 0 ? build_family(family) : build_family_variant(family, seed, i - 1);
        std::string path = (std::filesystem::path(dir) / (g.name + ".onnx")).string();
        write_onnx(g, path, seed + static_cast<uint64_t>(i), weights);
        return path;
      },
      written);
}

}  // namespace deepen
