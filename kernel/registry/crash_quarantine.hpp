// Crash quarantine — a plugin that crashes the process is named, and kept out at the next start.
//
//   crash_quarantine::install(cache.dir());                      // once, by `sluice serve`
//   crash_quarantine::remember(image, "plugins/libx.so", "x");   // for every loaded package
//   if (auto why = crash_quarantine::reason(cache.dir(), hash)) reject(path, *why);
//   crash_quarantine::release(cache.dir(), "plugins/libx.so");   // `sluice plugins release FILE`
//
// A plugin whose code faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE) or aborts — in process(), at load
// time, or later from a thread it started — takes the whole server down: in-process plugins
// share its address space. What the kernel can do is not let it happen again at every start (a
// crash loop). The fatal-signal handler walks the crashing thread's stack; the first frame that
// lies in a private plugin image (the registry loads `<cache>/<content hash>.so`) names the
// plugin. The handler writes `<cache>/quarantine/<hash>` with the signal and the plugin's file,
// prints the same to stderr, and lets the signal end the process as it would have. The registry
// rejects a file whose content is quarantined; a new build (other bytes) is loaded as usual.
//
// The record is keyed by content, not by path: the same build copied elsewhere stays out, and a
// fixed build under the same name is in at once.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::crash_quarantine {

// Installs the handler for the fatal signals (idempotent). `cache_dir` is the image cache's.
void install(const std::filesystem::path& cache_dir);

// Tells the handler which plugin file and package an image holds (for its message).
void remember(const std::filesystem::path& image, const std::filesystem::path& file, std::string_view package);

// The recorded crash of the build with this content hash, or nullopt when it has none.
std::optional<std::string> reason(const std::filesystem::path& cache_dir, std::string_view content_hash);

// Forgets the crash of the build in `file` and touches the file, so that a running server's
// watcher loads it again; false when that build has no record. Throws std::runtime_error when
// the file cannot be read.
bool release(const std::filesystem::path& cache_dir, const std::filesystem::path& file);

}  // namespace sluice::crash_quarantine
