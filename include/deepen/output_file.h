// deepen/output_file.h: files written whole or not at all. Content goes to a temporary file
// beside the target, which is renamed over it only when everything was written, so a failed or
// interrupted run never leaves half a JSON or CSV behind.
#pragma once

#include <string>

namespace deepen {

void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace deepen
