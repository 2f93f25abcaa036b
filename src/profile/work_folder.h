// The folder a profiling run writes its temporary kernel and network models into.
#pragma once

#include <string>

namespace deepen {

class WorkFolder {
 public:
  // `given` when not empty (kept afterwards), else a fresh folder under the system's temp folder
  // named `prefix`-PID, removed with everything in it when the object goes, however the run
  // ends. Throws Error when the folder cannot be created.
  WorkFolder(const std::string& given, const std::string& prefix);
  ~WorkFolder();
  WorkFolder(const WorkFolder&) = delete;
  WorkFolder& operator=(const WorkFolder&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool own_ = false;
};

}  // namespace deepen
