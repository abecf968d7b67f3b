#include "io/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/errors.h"

namespace ppb {

void write_file_atomically(const std::string& path, const std::string& content) {
  if (path == "-") {
    std::cout << content << std::flush;
    return;
  }
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::FILE* f = std::fopen(temp.c_str(), "wb");
    if (f == nullptr) PPB_THROW(InputError, path, ": cannot write (", std::strerror(errno), ")");
    const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
    const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    const int saved = errno;
    std::fclose(f);
    if (!written || !flushed) {
      std::remove(temp.c_str());
      PPB_THROW(InputError, path, ": cannot write (", std::strerror(saved), ")");
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    std::remove(temp.c_str());
    PPB_THROW(InputError, path, ": cannot write (", std::strerror(saved), ")");
  }
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) PPB_THROW(InputError, path, ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) PPB_THROW(InputError, path, ": cannot read (", std::strerror(errno), ")");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void check_output_file(const std::string& path, const char* flag) {
  if (path == "-") return;
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  PPB_REQUIRE_INPUT(parent.empty() || std::filesystem::is_directory(parent, ec), flag, ": directory of '", path,
                    "' does not exist");
  PPB_REQUIRE_INPUT(!std::filesystem::is_directory(path, ec), flag, ": '", path, "' is a directory");
}

}  // namespace ppb
