//===- Progress.h - a progress bar with an ETA for long runs ----*- C++ -*-===//
//
// Calibration, sensitivity measurement and error attribution run a model
// hundreds of times; on a terminal they draw a bar with the time left, in
// a pipe they stay quiet.
//
//===----------------------------------------------------------------------===//
#ifndef QC_SUPPORT_PROGRESS_H
#define QC_SUPPORT_PROGRESS_H

#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <chrono>
#include <string>

namespace qc {

/// A text progress bar on stderr, drawn only when `on` and stderr is a
/// terminal: `what [####    ] done/total, ETA 1m05s`.
class Progress {
public:
  Progress(bool on, llvm::StringRef what, size_t total)
      : on(on && llvm::sys::Process::StandardErrIsDisplayed()),
        what(what.str()), total(total),
        start(std::chrono::steady_clock::now()) {}

  void step(size_t done) {
    if (!on)
      return;
    int width = 30, filled = int(width * done / std::max<size_t>(total, 1));
    llvm::errs() << "\r" << what << " [" << std::string(filled, '#')
                 << std::string(width - filled, ' ') << "] " << done << "/"
                 << total;
    if (done > 0 && done < total) {
      double spent = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
      long left = long(spent / double(done) * double(total - done) + 0.5);
      llvm::errs() << ", ETA " << (left >= 60 ? std::to_string(left / 60) + "m"
                                              : std::string())
                   << (left % 60 < 10 && left >= 60 ? "0" : "") << left % 60
                   << "s   ";
    }
    if (done == total)
      llvm::errs() << "             \n";
  }

private:
  bool on;
  std::string what;
  size_t total;
  std::chrono::steady_clock::time_point start;
};

} // namespace qc

#endif // QC_SUPPORT_PROGRESS_H
