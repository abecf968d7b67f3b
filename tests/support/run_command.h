// Runs a real command (through /bin/sh) for the CLI tests and captures what it
// printed and how it exited.
#pragma once

#include <string>

namespace ppb::test {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

CommandResult run_command(const std::string& shell_command);

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_text(const std::string& path);
int count_lines(const std::string& text);  // newline characters
void write_text(const std::string& path, const std::string& text);
bool file_exists(const std::string& path);

}  // namespace ppb::test
