// Files are written whole or not at all: a temporary file beside the target,
// flushed and renamed over it, so a reader (or a crashed run) never sees a half
// written result.
#pragma once

#include <string>

namespace ppb {

// path "-" writes to standard output. Throws InputError naming the file when it
// cannot be written.
void write_file_atomically(const std::string& path, const std::string& content);

// Throws InputError naming the file when it cannot be read.
std::string read_file(const std::string& path);

// Checked before any work is done, so that a bad output flag fails up front with
// nothing written: throws InputError naming `flag` when path's directory does
// not exist or path is a directory. "-" (standard output) always passes.
void check_output_file(const std::string& path, const char* flag);

}  // namespace ppb
