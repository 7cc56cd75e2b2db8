// Whole files: read in one call, and written so that a crash cannot leave them half done. The graphs a server saves, the dead
// letter journal it compacts and the plugin images it caches are all replaced this way, so
// that a reader (another server sharing the directory, or the next start after a kill -9)
// finds the old file or the new one, never a part of one.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace sluice {

// Writes `bytes` to a temporary file beside `file` (`.NAME.PID.N.tmp`: unique per process and
// call), flushes it to disk, then renames it over `file`. Throws std::runtime_error naming the
// step and the path ("cannot write /x/.g.yaml.12.0.tmp: No space left on device"); the
// temporary file is gone then.
void replace_file(const std::filesystem::path& file, std::string_view bytes, mode_t mode = 0644);

// The whole file. Throws std::system_error with the path ("cannot read PATH: reason").
std::string read_file(const std::filesystem::path& path);

}  // namespace sluice
