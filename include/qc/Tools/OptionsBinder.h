//===- OptionsBinder.h - options structs bound to the command line -*- C++
//-*-===//
//
// The tools' flags write straight into the library's option structs: each
// flag is one bind call naming the struct field it sets (llvm::cl external
// storage), so a field's default is written once, in its struct. Enum flags
// are spelled by the enum's table (qc/Support/EnumOptions.h); flags whose
// text needs parsing (sizes, durations, "block:64") name a parser. verify()
// converts and checks them all, with one message style:
// "unknown --flag 'value' (a, b or c)".
//
//===----------------------------------------------------------------------===//
#ifndef QC_TOOLS_OPTIONSBINDER_H
#define QC_TOOLS_OPTIONSBINDER_H

#include "qc/Support/EnumOptions.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include <functional>
#include <memory>
#include <vector>

namespace qc {

class OptionsBinder {
public:
  explicit OptionsBinder(llvm::cl::OptionCategory &category)
      : category(&category) {}

  /// Flags bound from now on belong to `category`.
  void setCategory(llvm::cl::OptionCategory &c) { category = &c; }
  /// Flags bound from now on belong to the named group (see givenInGroup);
  /// "" ends it.
  void setGroup(llvm::StringRef group) { currentGroup = group.str(); }

  /// A flag whose value llvm::cl parses into `storage` (numbers, strings,
  /// bools). `name` must outlive the binder (a string literal).
  template <typename T>
  llvm::cl::Option &opt(llvm::StringRef name, T &storage, llvm::StringRef help,
                        llvm::StringRef valueName = "") {
    auto o = std::make_unique<llvm::cl::opt<T, true>>(
        name, llvm::cl::location(storage), llvm::cl::desc(help),
        llvm::cl::cat(*category));
    if (!valueName.empty())
      o->setValueStr(valueName);
    llvm::cl::Option &ref = *o;
    add(name, std::move(o));
    return ref;
  }

  /// A repeatable (or, with commaSeparated, comma-separated) flag.
  template <typename T>
  void list(llvm::StringRef name, std::vector<T> &storage, llvm::StringRef help,
            llvm::StringRef valueName = "", bool commaSeparated = false) {
    auto o = std::make_unique<llvm::cl::list<T, std::vector<T>>>(
        name, llvm::cl::location(storage), llvm::cl::desc(help),
        llvm::cl::cat(*category));
    if (commaSeparated)
      o->setMiscFlag(llvm::cl::CommaSeparated);
    if (!valueName.empty())
      o->setValueStr(valueName);
    add(name, std::move(o));
  }

  /// An enum flag: its values are E's spellings.
  template <typename E>
  void enumOpt(llvm::StringRef name, E &storage, llvm::StringRef help) {
    std::string values;
    for (const EnumSpelling<E> &s : spellings<E>())
      values += "\n  " + s.name.str() + ": " + s.help.str();
    parsed<E>(
        name, storage, help.str() + "; one of:" + values, "",
        [](llvm::StringRef text) { return symbolize<E>(text); },
        [](llvm::StringRef flag, llvm::StringRef value) {
          return ("unknown --" + flag + " '" + value + "' (" +
                  spellingList<E>() + ")")
              .str();
        });
  }

  /// A flag parsed by `parse` into `storage` when verify() runs; a value it
  /// rejects is "--name 'value' <rejection>", or what `message` says.
  template <typename T>
  void parsed(llvm::StringRef name, T &storage, const std::string &help,
              llvm::StringRef valueName,
              std::function<std::optional<T>(llvm::StringRef)> parse,
              std::string rejection) {
    parsed<T>(name, storage, help, valueName, std::move(parse),
              [rejection](llvm::StringRef flag, llvm::StringRef value) {
                return ("--" + flag + " '" + value + "' " + rejection).str();
              });
  }
  template <typename T>
  void
  parsed(llvm::StringRef name, T &storage, const std::string &help,
         llvm::StringRef valueName,
         std::function<std::optional<T>(llvm::StringRef)> parse,
         std::function<std::string(llvm::StringRef, llvm::StringRef)> message) {
    auto text = std::make_unique<std::string>();
    std::string *buffer = text.get();
    texts.push_back(std::move(text));
    helps.push_back(std::make_unique<std::string>(help));
    auto o = std::make_unique<llvm::cl::opt<std::string, true>>(
        name, llvm::cl::location(*buffer), llvm::cl::desc(*helps.back()),
        llvm::cl::cat(*category));
    if (!valueName.empty())
      o->setValueStr(valueName);
    llvm::cl::Option *opt = o.get();
    conversions.push_back([=, &storage]() -> llvm::Error {
      if (!opt->getNumOccurrences())
        return llvm::Error::success();
      if (std::optional<T> v = parse(*buffer)) {
        storage = *v;
        return llvm::Error::success();
      }
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     message(opt->ArgStr, *buffer));
    });
    add(name, std::move(o));
  }

  /// Another spelling of a bound flag.
  void alias(llvm::StringRef name, llvm::StringRef of, llvm::StringRef help);

  /// Whether the flag was given on the command line.
  bool given(llvm::StringRef name) const;
  /// "--flag" of the first flag of `group` that was given, or "".
  std::string givenInGroup(llvm::StringRef group) const;

  /// Parses every flag bound with parsed()/enumOpt() (call after
  /// llvm::cl::ParseCommandLineOptions); the first rejection.
  llvm::Error verify() const;

private:
  void add(llvm::StringRef name, std::unique_ptr<llvm::cl::Option> o);

  llvm::cl::OptionCategory *category;
  std::string currentGroup;
  std::vector<std::unique_ptr<llvm::cl::Option>> options;
  std::vector<std::unique_ptr<std::string>> texts, helps;
  llvm::StringMap<llvm::cl::Option *> byName;
  std::vector<std::pair<std::string, llvm::cl::Option *>> groups;
  std::vector<std::function<llvm::Error()>> conversions;
};

} // namespace qc

#endif // QC_TOOLS_OPTIONSBINDER_H
