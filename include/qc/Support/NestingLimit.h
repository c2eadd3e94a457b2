//===- NestingLimit.h - refuse .mlir text nested too deep -------*- C++ -*-===//
//
// MLIR's parser descends recursively into nested types and attributes
// ("((((...) -> ..."), without a depth limit: an input nested a hundred
// thousand deep overflows the stack (found by scripts/fuzz.sh, qc-fuzz-mlir).
// The tools check the text's bracket depth before parsing it.
//
//===----------------------------------------------------------------------===//
#ifndef QC_SUPPORT_NESTINGLIMIT_H
#define QC_SUPPORT_NESTINGLIMIT_H

#include "llvm/ADT/StringRef.h"
#include <optional>
#include <utility>

namespace qc {

/// Deeper than any real model's IR (a tensor type of a tuple of ... nests a
/// few levels), far shallower than what overflows an 8 MiB stack.
inline constexpr unsigned kMaxTextNesting = 1000;

/// The (line, column), 1-based, of the first bracket that opens level
/// `limit` + 1 of ( [ { < nesting in .mlir `text`, outside string literals
/// and // comments; none when the text stays within the limit.
inline std::optional<std::pair<unsigned, unsigned>>
findExcessiveNesting(llvm::StringRef text, unsigned limit = kMaxTextNesting) {
  unsigned depth = 0, line = 1, col = 0;
  bool inString = false, inComment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    ++col;
    if (c == '\n') {
      ++line, col = 0, inComment = false;
      continue;
    }
    if (inComment)
      continue;
    if (inString) {
      if (c == '\\')
        ++i, ++col;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      inComment = true;
    } else if (c == '(' || c == '[' || c == '{' || c == '<') {
      if (++depth > limit)
        return std::make_pair(line, col);
    } else if ((c == ')' || c == ']' || c == '}' || c == '>') && depth) {
      // '>' also ends '->': closing a level that was never opened is
      // harmless here, the parser reports unbalanced text.
      if (!(c == '>' && i > 0 && text[i - 1] == '-'))
        --depth;
    }
  }
  return std::nullopt;
}

} // namespace qc

#endif // QC_SUPPORT_NESTINGLIMIT_H
