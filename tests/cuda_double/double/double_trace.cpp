#include "double_trace.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "double_config.h"

namespace ppb::cuda_double {

namespace {

struct Trace {
  std::mutex mutex;
  std::FILE* file = nullptr;
};

Trace& trace() {
  static Trace* t = [] {
    auto* made = new Trace;  // never destroyed: workers may trace during exit
    const char* dir = std::getenv("PPB_CUDA_DOUBLE_TRACE");
    if (dir != nullptr && *dir != '\0') {
      const std::string path = std::string(dir) + "/rank" + std::to_string(config().world_rank) + ".jsonl";
      made->file = std::fopen(path.c_str(), "a");
      if (made->file == nullptr) config_error("PPB_CUDA_DOUBLE_TRACE: cannot open '" + path + "'");
    }
    return made;
  }();
  return *t;
}

}  // namespace

bool tracing() { return trace().file != nullptr; }

void trace_line(const std::string& json_object) {
  Trace& t = trace();
  if (t.file == nullptr) return;
  std::lock_guard<std::mutex> lock(t.mutex);
  std::fprintf(t.file, "%s\n", json_object.c_str());
  std::fflush(t.file);  // a rank that dies keeps what it logged
}

}  // namespace ppb::cuda_double
