#pragma once
// Shared helpers for the config tests: a scratch folder with stand-in certificate files, and the
// source tree root (derived from this file's path) to find the committed example configs.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace esgate::config::test {

// The repository root: from CMake (tests/CMakeLists.txt), else from this file's path
// (tests/unit/config/fixtures.hpp). canonical() sees through symlinked trees.
inline std::filesystem::path source_dir() {
#ifdef ESGATE_SOURCE_DIR
  return std::filesystem::weakly_canonical(ESGATE_SOURCE_DIR);
#else
  std::filesystem::path here = std::filesystem::weakly_canonical(__FILE__);
  return here.parent_path().parent_path().parent_path().parent_path();
#endif
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A per-process folder holding certs/{gateway.crt,gateway.key,ca.crt,es-ca.crt} and a folder
// named certs/dir.crt, removed at exit. The loader only checks that TLS files exist and can be
// read, so their contents are dummies.
struct scratch_folder {
  std::filesystem::path path;
  scratch_folder() {
    std::string templ = (std::filesystem::temp_directory_path() / "esgate-config-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) std::abort();
    path = templ;
    for (const char* f : {"gateway.crt", "gateway.key", "ca.crt", "es-ca.crt"})
      write_file(path / "certs" / f, "dummy\n");
    std::filesystem::create_directories(path / "certs" / "dir.crt");
  }
  ~scratch_folder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline const std::string& scratch_dir() {
  static const scratch_folder folder;
  static const std::string dir = folder.path.string();
  return dir;
}

}  // namespace esgate::config::test
