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

// Whether path's directory exists (or path has none): checked before any work is
// done so that a bad --output fails up front, with nothing written.
bool parent_directory_exists(const std::string& path);

}  // namespace ppb
