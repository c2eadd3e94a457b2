//===- CommandLine.h - command-line helpers of the tools --------*- C++ -*-===//
#ifndef QC_TOOLS_COMMANDLINE_H
#define QC_TOOLS_COMMANDLINE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include <cstdlib>
#include <string>
#include <vector>

namespace qc {

/// $`name`, or `fallback` when it is unset or empty (the tools' defaults for
/// --int8-kernels / --f32-kernels, so a whole test run can pin them).
inline std::string envOr(const char *name, const char *fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::string(v) : std::string(fallback);
}

/// Parses the tools' command line (llvm::cl) with --threads[=N] spelled
/// --num-threads[=N]: libLLVM registers its own "threads" option, so the
/// tools declare num-threads.
inline void parseToolCommandLine(int argc, char **argv, llvm::StringRef overview) {
  std::vector<std::string> args(argv, argv + argc);
  for (std::string &a : args)
    for (llvm::StringRef spelling : {"--threads", "-threads"})
      if (llvm::StringRef(a) == spelling || llvm::StringRef(a).starts_with((spelling + "=").str()))
        a = "--num-threads" + a.substr(spelling.size());
  std::vector<const char *> cargs;
  for (const std::string &a : args)
    cargs.push_back(a.c_str());
  llvm::cl::ParseCommandLineOptions(int(cargs.size()), cargs.data(), overview);
}

} // namespace qc

#endif // QC_TOOLS_COMMANDLINE_H
