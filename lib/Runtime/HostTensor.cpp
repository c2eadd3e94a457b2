//===- HostTensor.cpp - .npy/.npz/.pb tensor files and comparison ---------===//
#include "qc/Runtime/HostTensor.h"
#include "qc/Target/ONNX/Import.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>
#include <cstring>
#include <zlib.h>

using namespace llvm;
using qc::DType;
using qc::HostTensor;

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg);
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

template <typename T>
static T load(const char *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

static double halfToDouble(uint16_t bits, const fltSemantics &sem) {
  APFloat f(sem, APInt(16, bits));
  bool lost;
  f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return f.convertToDouble();
}

double HostTensor::elementAsDouble(int64_t i) const {
  const char *p = data.data() + i * dtypeSize(dtype);
  switch (dtype) {
  case DType::Float:
    return load<float>(p);
  case DType::Double:
    return load<double>(p);
  case DType::Float16:
    return halfToDouble(load<uint16_t>(p), APFloat::IEEEhalf());
  case DType::BFloat16:
    return halfToDouble(load<uint16_t>(p), APFloat::BFloat());
  case DType::Bool:
    return *p != 0;
  case DType::UInt8:
    return load<uint8_t>(p);
  case DType::Int8:
    return load<int8_t>(p);
  case DType::UInt16:
    return load<uint16_t>(p);
  case DType::Int16:
    return load<int16_t>(p);
  case DType::UInt32:
    return load<uint32_t>(p);
  case DType::Int32:
    return load<int32_t>(p);
  case DType::UInt64:
    return double(load<uint64_t>(p));
  case DType::Int64:
    return double(load<int64_t>(p));
  }
  return 0;
}

std::string qc::formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? ", " : "") + std::to_string(d);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

static bool dtypeFromDescr(StringRef descr, DType &dtype) {
  // Byte order: '<' little, '|' not applicable, '=' native (little here).
  if (descr.size() < 2 || descr[0] == '>')
    return false;
  StringRef code = descr.drop_front();
  static const std::pair<const char *, DType> table[] = {
      {"f4", DType::Float},  {"f8", DType::Double}, {"f2", DType::Float16},
      {"b1", DType::Bool},   {"u1", DType::UInt8},  {"i1", DType::Int8},
      {"u2", DType::UInt16}, {"i2", DType::Int16},  {"u4", DType::UInt32},
      {"i4", DType::Int32},  {"u8", DType::UInt64}, {"i8", DType::Int64}};
  for (auto &[c, d] : table)
    if (code == c) {
      dtype = d;
      return true;
    }
  return false;
}

static const char *descrOf(DType d) {
  switch (d) {
  case DType::Float:
    return "<f4";
  case DType::Double:
    return "<f8";
  case DType::Float16:
    return "<f2";
  case DType::BFloat16:
    return "<V2"; // numpy has no bfloat16
  case DType::Bool:
    return "|b1";
  case DType::UInt8:
    return "|u1";
  case DType::Int8:
    return "|i1";
  case DType::UInt16:
    return "<u2";
  case DType::Int16:
    return "<i2";
  case DType::UInt32:
    return "<u4";
  case DType::Int32:
    return "<i4";
  case DType::UInt64:
    return "<u8";
  case DType::Int64:
    return "<i8";
  }
  return "";
}

/// The value of `key` in a numpy header dict: {'descr': '<f4', ...}.
static StringRef headerField(StringRef header, StringRef key) {
  size_t at = header.find(("'" + key + "'").str());
  if (at == StringRef::npos)
    return {};
  StringRef rest = header.drop_front(at + key.size() + 2).ltrim(" :");
  if (rest.starts_with("'"))
    return rest.drop_front().take_until([](char c) { return c == '\''; });
  if (rest.starts_with("("))
    return rest.drop_front().take_until([](char c) { return c == ')'; });
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
}

Expected<HostTensor> qc::parseNpy(StringRef bytes, StringRef what) {
  if (!bytes.starts_with("\x93NUMPY") || bytes.size() < 10)
    return fail(what + " is not a .npy file (no \\x93NUMPY magic)");
  unsigned major = uint8_t(bytes[6]);
  size_t headerLen, start;
  if (major == 1) {
    headerLen = support::endian::read16le(bytes.data() + 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail(what + " is truncated");
    headerLen = support::endian::read32le(bytes.data() + 8);
    start = 12;
  } else {
    return fail(what + " has unknown .npy version " + Twine(major));
  }
  if (start + headerLen > bytes.size())
    return fail(what + " is truncated (header)");
  StringRef header = bytes.substr(start, headerLen);
  HostTensor t;
  StringRef descr = headerField(header, "descr");
  if (!dtypeFromDescr(descr, t.dtype))
    return fail(what + " has unsupported dtype '" + descr + "'");
  if (headerField(header, "fortran_order") == "True")
    return fail(what + " is in Fortran order; save it C-contiguous");
  SmallVector<StringRef> dims;
  headerField(header, "shape").split(dims, ',', -1, /*KeepEmpty=*/false);
  for (StringRef d : dims) {
    int64_t v;
    if (d.trim().getAsInteger(10, v) || v < 0)
      return fail(what + " has a bad shape in its header");
    t.shape.push_back(v);
  }
  int64_t n = dtypeSize(t.dtype);
  for (int64_t d : t.shape)
    if (llvm::MulOverflow(n, d, n))
      return fail(what + " has a shape too large for 64-bit sizes");
  StringRef payload = bytes.drop_front(start + headerLen);
  if (int64_t(payload.size()) < n)
    return fail(what + " holds " + Twine(payload.size()) + " data bytes, " +
                "its shape " + qc::formatShape(t.shape) + " needs " + Twine(n));
  t.data.assign(payload.begin(), payload.begin() + n);
  return t;
}

Expected<HostTensor> qc::readNpy(StringRef path) {
  auto buf = MemoryBuffer::getFile(path, /*IsText=*/false,
                                   /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail("cannot read '" + path + "': " + buf.getError().message());
  Expected<HostTensor> t =
      parseNpy((*buf)->getBuffer(), "'" + path.str() + "'");
  if (t)
    t->name = sys::path::stem(path).str();
  return t;
}

Error qc::writeNpy(StringRef path, const HostTensor &t) {
  std::string header = "{'descr': '" + std::string(descrOf(t.dtype)) +
                       "', 'fortran_order': False, 'shape': (";
  for (int64_t d : t.shape)
    header += std::to_string(d) + ", ";
  if (t.shape.size() > 1)
    header.erase(header.size() - 2, 1); // "(2, 3)" but "(5,)"
  if (!t.shape.empty())
    header.pop_back();
  header += "), }";
  // Pad so that magic + version + length + header + '\n' is 64-aligned.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::error_code ec;
  raw_fd_ostream os(path, ec, sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + path + "': " + ec.message());
  os << "\x93NUMPY" << char(1) << char(0);
  char len[2];
  support::endian::write16le(len, uint16_t(header.size()));
  os.write(len, 2);
  os << header;
  os.write(t.data.data(), t.data.size());
  return Error::success();
}

//===----------------------------------------------------------------------===//
// .npz: a zip archive of .npy members
//===----------------------------------------------------------------------===//

static Expected<std::string> inflateRaw(StringRef in, uint64_t outSize,
                                        const Twine &what) {
  // Deflate expands at most 1032:1: a larger declared size is a lie, and
  // must not be allocated.
  if (outSize > uint64_t(in.size()) * 1032 + 1024)
    return fail(what + " is corrupt (declares " + Twine(outSize) +
                " bytes from " + Twine(in.size()) + " compressed)");
  std::string out(outSize, '\0');
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
    return fail("zlib initialization failed");
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef *>(out.data());
  zs.avail_out = uInt(out.size());
  int rc = inflate(&zs, Z_FINISH);
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || zs.total_out != outSize)
    return fail(what + " is corrupt (deflate stream)");
  return out;
}

Expected<std::vector<HostTensor>> qc::readNpz(StringRef path) {
  auto buf = MemoryBuffer::getFile(path, /*IsText=*/false,
                                   /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail("cannot read '" + path + "': " + buf.getError().message());
  return parseNpz((*buf)->getBuffer(), "'" + path.str() + "'");
}

Expected<std::vector<HostTensor>> qc::parseNpz(StringRef zip,
                                               StringRef whatRef) {
  std::string what = whatRef.str();
  // Whether [at, at + n) lies in the archive. Offsets and sizes come from the
  // file (64 bits in zip64 records): compared without overflow.
  auto fits = [&](uint64_t at, uint64_t n) {
    return at <= zip.size() && n <= zip.size() - at;
  };
  // End of central directory: the last "PK\5\6" record.
  size_t eocd = zip.size() >= 22 ? zip.rfind(StringRef("PK\x05\x06", 4))
                                 : StringRef::npos;
  if (eocd == StringRef::npos || eocd + 22 > zip.size())
    return fail(what + " is not a .npz (zip) archive");
  const char *e = zip.data() + eocd;
  uint64_t count = support::endian::read16le(e + 10);
  uint64_t dirOffset = support::endian::read32le(e + 16);
  // Zip64: the locator just before points at the zip64 EOCD record.
  if ((dirOffset == 0xffffffff || count == 0xffff) && eocd >= 20 &&
      zip.substr(eocd - 20, 4) == StringRef("PK\x06\x07", 4)) {
    uint64_t z64 = support::endian::read64le(zip.data() + eocd - 20 + 8);
    if (!fits(z64, 56))
      return fail(what + " is corrupt (zip64 record)");
    count = support::endian::read64le(zip.data() + z64 + 32);
    dirOffset = support::endian::read64le(zip.data() + z64 + 48);
  }
  std::vector<HostTensor> result;
  uint64_t at = dirOffset;
  for (uint64_t i = 0; i < count; ++i) {
    if (!fits(at, 46) || zip.substr(at, 4) != StringRef("PK\x01\x02", 4))
      return fail(what + " is corrupt (central directory)");
    const char *c = zip.data() + at;
    unsigned method = support::endian::read16le(c + 10);
    uint64_t csize = support::endian::read32le(c + 20);
    uint64_t usize = support::endian::read32le(c + 24);
    unsigned nameLen = support::endian::read16le(c + 28);
    unsigned extraLen = support::endian::read16le(c + 30);
    unsigned commentLen = support::endian::read16le(c + 32);
    uint64_t local = support::endian::read32le(c + 42);
    if (!fits(at, 46 + nameLen + extraLen))
      return fail(what + " is corrupt (central directory)");
    StringRef name = zip.substr(at + 46, nameLen);
    // Zip64 extra field: the 0xffffffff fields in order usize, csize, offset.
    StringRef extra = zip.substr(at + 46 + nameLen, extraLen);
    while (extra.size() >= 4) {
      unsigned id = support::endian::read16le(extra.data());
      unsigned len = support::endian::read16le(extra.data() + 2);
      StringRef field = extra.substr(4, len);
      if (id == 1) {
        auto next = [&](uint64_t &v) {
          if (v == 0xffffffff && field.size() >= 8) {
            v = support::endian::read64le(field.data());
            field = field.drop_front(8);
          }
        };
        next(usize);
        next(csize);
        next(local);
      }
      extra = extra.drop_front(std::min<size_t>(extra.size(), 4 + len));
    }
    at += 46 + nameLen + extraLen + commentLen;
    if (!fits(local, 30) || zip.substr(local, 4) != StringRef("PK\x03\x04", 4))
      return fail(what + " is corrupt (local header of '" + name + "')");
    uint64_t dataAt = local + 30 +
                      support::endian::read16le(zip.data() + local + 26) +
                      support::endian::read16le(zip.data() + local + 28);
    if (!fits(dataAt, csize))
      return fail(what + " is truncated ('" + name + "')");
    StringRef stored = zip.substr(dataAt, csize);
    std::string member;
    if (method == 0) {
      member = stored.str();
    } else if (method == 8) {
      Expected<std::string> inflated =
          inflateRaw(stored, usize, what + " member '" + name + "'");
      if (!inflated)
        return inflated.takeError();
      member = std::move(*inflated);
    } else {
      return fail(what + " member '" + name + "' uses zip compression method " +
                  Twine(method) + " (only stored and deflate are read)");
    }
    Expected<HostTensor> t =
        parseNpy(member, what + " member '" + name.str() + "'");
    if (!t)
      return t.takeError();
    t->name = name.ends_with(".npy") ? name.drop_back(4).str() : name.str();
    result.push_back(std::move(*t));
  }
  return result;
}

//===----------------------------------------------------------------------===//
// .pb
//===----------------------------------------------------------------------===//

Expected<HostTensor> qc::readTensorProto(StringRef path) {
  ONNXTensorFile file;
  std::string error;
  if (failed(readONNXTensorFile(path, file, error)))
    return fail(error);
  HostTensor t;
  t.name = file.name;
  t.dtype = DType(file.dataType);
  if (dtypeSize(t.dtype) == 0)
    return fail("'" + path + "' holds an unsupported data type");
  t.shape = file.dims;
  t.data.assign(file.bytes.begin(), file.bytes.end());
  return t;
}

Expected<HostTensor> qc::readTensorFile(StringRef path) {
  StringRef ext = sys::path::extension(path);
  if (ext == ".npy")
    return readNpy(path);
  if (ext == ".pb")
    return readTensorProto(path);
  if (ext == ".npz") {
    Expected<std::vector<HostTensor>> all = readNpz(path);
    if (!all)
      return all.takeError();
    if (all->size() != 1)
      return fail("'" + path + "' holds " + Twine(all->size()) +
                  " arrays; name the one meant");
    return std::move(all->front());
  }
  return fail("'" + path +
              "': unknown tensor file type (use .npy, .npz or .pb)");
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

Error qc::compareTensors(const HostTensor &actual, const HostTensor &expected,
                         double rtol, double atol) {
  std::string what = "output '" + actual.name + "'";
  if (actual.shape != expected.shape)
    return fail(what + " has shape " + formatShape(actual.shape) +
                ", expected " + formatShape(expected.shape));
  bool isFloat =
      actual.dtype == DType::Float || actual.dtype == DType::Double ||
      actual.dtype == DType::Float16 || actual.dtype == DType::BFloat16;
  int64_t n = actual.numElements(), bad = 0, worst = -1;
  double worstExcess = -1;
  for (int64_t i = 0; i < n; ++i) {
    double a = actual.elementAsDouble(i), e = expected.elementAsDouble(i);
    double excess;
    if (!isFloat) {
      excess = a == e ? -1 : std::fabs(a - e);
    } else if (std::isnan(a) || std::isnan(e)) {
      excess = std::isnan(a) && std::isnan(e) ? -1 : INFINITY;
    } else if (std::isinf(a) || std::isinf(e)) {
      excess = a == e ? -1 : INFINITY;
    } else {
      excess = std::fabs(a - e) - (atol + rtol * std::fabs(e));
    }
    if (excess > 0 || (!isFloat && excess >= 0)) {
      ++bad;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
  }
  if (!bad)
    return Error::success();
  // The index of the worst element, row-major.
  std::vector<int64_t> index(actual.shape.size());
  for (int64_t d = int64_t(index.size()) - 1, r = worst; d >= 0; --d) {
    index[d] = r % actual.shape[d];
    r /= actual.shape[d];
  }
  std::string msg;
  raw_string_ostream os(msg);
  os << what << ": " << bad << " of " << n << " elements differ";
  if (isFloat)
    os << " beyond rtol " << format("%g", rtol) << " atol "
       << format("%g", atol);
  else
    os << " (integers compare exactly)";
  os << "; worst at " << formatShape(index) << ": got "
     << format("%.7g", actual.elementAsDouble(worst)) << ", expected "
     << format("%.7g", expected.elementAsDouble(worst));
  return fail(msg);
}
