//===- ElfCheck.h - is a file a whole shared library? -----------*- C++ -*-===//
//
// dlopen maps a shared library's segments by the sizes its headers claim: a
// truncated or corrupt file then faults (SIGBUS) when the loader touches a
// page past its end. checkSharedLibrary reads the ELF headers first and
// says what is wrong. Header-only, the C++ library and <elf.h> alone: the
// self-contained qc-runner includes it too.
//
//===----------------------------------------------------------------------===//
#ifndef QC_RUNTIME_ELFCHECK_H
#define QC_RUNTIME_ELFCHECK_H

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <elf.h>
#include <string>
#include <vector>

namespace qc {

/// Empty when `path` is a 64-bit little-endian ELF shared object whose
/// program headers, loaded segments and section headers lie inside the
/// file; else why not.
inline std::string checkSharedLibrary(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return "cannot open it: " + std::string(std::strerror(errno));
  std::string why;
  auto readAt = [&](uint64_t offset, void *out, uint64_t size) {
    return std::fseek(f, long(offset), SEEK_SET) == 0 &&
           std::fread(out, 1, size, f) == size;
  };
  std::fseek(f, 0, SEEK_END);
  long end = std::ftell(f);
  uint64_t fileSize = end < 0 ? 0 : uint64_t(end);
  Elf64_Ehdr eh;
  auto within = [&](uint64_t offset, uint64_t count, uint64_t each) {
    return each == 0 || (count <= fileSize / each && offset <= fileSize &&
                         count * each <= fileSize - offset);
  };
  if (fileSize < sizeof eh || !readAt(0, &eh, sizeof eh) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    why = "not an ELF file";
  else if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
           eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
    why = "not a 64-bit x86-64 ELF file";
  else if (eh.e_type != ET_DYN)
    why = "not a shared library (ELF type " + std::to_string(eh.e_type) + ")";
  else if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
           !within(eh.e_phoff, eh.e_phnum, sizeof(Elf64_Phdr)))
    why = "its program headers lie outside the file";
  else if (eh.e_shnum && (eh.e_shentsize != sizeof(Elf64_Shdr) ||
                          !within(eh.e_shoff, eh.e_shnum, sizeof(Elf64_Shdr))))
    why = "its section headers lie outside the file (truncated?)";
  if (why.empty()) {
    std::vector<Elf64_Phdr> ph(eh.e_phnum);
    if (!readAt(eh.e_phoff, ph.data(), ph.size() * sizeof(Elf64_Phdr)))
      why = "its program headers cannot be read";
    for (const Elf64_Phdr &p : ph)
      if (why.empty() && (p.p_type == PT_LOAD || p.p_type == PT_DYNAMIC) &&
          !within(p.p_offset, p.p_filesz, 1))
        why = "a segment ends at byte " +
              std::to_string(p.p_offset + p.p_filesz) + " of a " +
              std::to_string(fileSize) + "-byte file (truncated?)";
  }
  std::fclose(f);
  return why;
}

} // namespace qc

#endif // QC_RUNTIME_ELFCHECK_H
