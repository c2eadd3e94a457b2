//===- OptionsBinder.cpp - options structs bound to the command line ------===//
#include "qc/Tools/OptionsBinder.h"

using namespace qc;

void OptionsBinder::add(llvm::StringRef name,
                        std::unique_ptr<llvm::cl::Option> o) {
  byName[name] = o.get();
  if (!currentGroup.empty())
    groups.push_back({currentGroup, o.get()});
  options.push_back(std::move(o));
}

void OptionsBinder::alias(llvm::StringRef name, llvm::StringRef of,
                          llvm::StringRef help) {
  llvm::cl::Option *target = byName.lookup(of);
  auto a = std::make_unique<llvm::cl::alias>(name, llvm::cl::desc(help),
                                             llvm::cl::aliasopt(*target),
                                             llvm::cl::cat(*category));
  options.push_back(std::move(a));
}

bool OptionsBinder::given(llvm::StringRef name) const {
  llvm::cl::Option *o = byName.lookup(name);
  return o && o->getNumOccurrences() > 0;
}

std::string OptionsBinder::givenInGroup(llvm::StringRef group) const {
  for (auto &[g, o] : groups)
    if (g == group && o->getNumOccurrences())
      return ("--" + o->ArgStr).str();
  return "";
}

llvm::Error OptionsBinder::verify() const {
  for (const std::function<llvm::Error()> &convert : conversions)
    if (llvm::Error e = convert())
      return e;
  return llvm::Error::success();
}
