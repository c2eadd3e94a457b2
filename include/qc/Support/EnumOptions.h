//===- EnumOptions.h - one spelling table per option enum -------*- C++ -*-===//
//
// An option enum is spelled in one table (EnumSpelling<E> entries, declared
// by specializing qc::spellings<E>()). The table gives the llvm::cl values of
// every command-line flag and pass option of that type (qc::clValues<E>()),
// the text of reports and JSON (qc::stringify), and parsing of saved files
// (qc::symbolize), so a new value is added in one place.
//
//===----------------------------------------------------------------------===//
#ifndef QC_SUPPORT_ENUMOPTIONS_H
#define QC_SUPPORT_ENUMOPTIONS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"
#include <optional>
#include <string>

namespace qc {

template <typename E>
struct EnumSpelling {
  E value;
  llvm::StringLiteral name;
  llvm::StringLiteral help;
};

/// The spellings of `E`; specialized next to each enum.
template <typename E>
llvm::ArrayRef<EnumSpelling<E>> spellings();

template <typename E>
llvm::StringRef stringify(E value) {
  for (const EnumSpelling<E> &s : spellings<E>())
    if (s.value == value)
      return s.name;
  return "?";
}

template <typename E>
std::optional<E> symbolize(llvm::StringRef name) {
  for (const EnumSpelling<E> &s : spellings<E>())
    if (s.name == name)
      return s.value;
  return std::nullopt;
}

/// "a, b or c": the spellings of `E`, for messages.
template <typename E>
std::string spellingList() {
  std::string out;
  llvm::ArrayRef<EnumSpelling<E>> all = spellings<E>();
  for (size_t i = 0; i < all.size(); ++i)
    out += (i == 0                ? ""
            : i + 1 == all.size() ? " or "
                                  : ", ") +
           all[i].name.str();
  return out;
}

/// An llvm::cl modifier adding every spelling of `E` as a literal value (as
/// cl::values does): `cl::opt<E> x("x", qc::clValues<E>())`, or in ODS
/// `Option<..., [{::qc::clValues<::qc::E>()}]>`.
template <typename E>
struct ClValues {
  template <class Opt>
  void apply(Opt &o) const {
    for (const EnumSpelling<E> &s : spellings<E>())
      o.getParser().addLiteralOption(s.name, s.value, s.help);
  }
};
template <typename E>
ClValues<E> clValues() {
  return {};
}

} // namespace qc

#endif // QC_SUPPORT_ENUMOPTIONS_H
