// Whole-file chores on host paths: read, write, write atomically (rename over), mkdir -p.
// Each throws ocirt::Error naming the path and the errno.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace ocirt::sys {

// read_file throws with the path and errno; try_read_file returns false on ENOENT.
std::string read_file(const std::string& path);
bool try_read_file(const std::string& path, std::string& out);
void write_file(const std::string& path, std::string_view data, int flags = 0);
// Append everything readable from fd (until EOF) to out; false with errno set on error.
bool read_all(int fd, std::string& out);
// Write to dirfd/name.tmp then rename over dirfd/name: readers never see a partial file.
void write_atomic(int dirfd, const std::string& name, std::string_view data, mode_t mode = 0644);
void write_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);
void mkdir_p(const std::string& path, mode_t mode = 0755);

}  // namespace ocirt::sys
