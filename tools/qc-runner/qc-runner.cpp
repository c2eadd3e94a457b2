//===- qc-runner.cpp - run a compiled model with nothing but libc ---------===//
//
//   qc-runner LIB.so [--prefix P] [--input FILE.npy]... [--output-dir DIR]
//             [--expect FILE.npy]... [--rtol R] [--atol A]
//             [--scaled-tol S] [--repeat N] [--warmup N] [--json]
//
// Loads a model library written by quant-compile (CPU or cuda target),
// feeds it .npy inputs in the library's input order, optionally writes the
// outputs (DIR/output_<i>.npy) and compares them with expected .npy files:
// bit-exact unless --rtol/--atol give a float tolerance (|a-b| <= atol +
// rtol*|b|, elementwise), or --scaled-tol S one relative to the output's
// magnitude (|a-b| <= S * max|b|: float parts of an integer model). --repeat times the model: a cuda library by CUDA
// events (P_time: device-side, inputs uploaded once), a CPU library by the
// wall clock. Links nothing of LLVM or MLIR (the GPU machine has neither):
// dlopen, the C library and the model's C API only. Exit 0 when every
// comparison holds; 1 on a mismatch; 2 on a usage, file or model error.
//
//===----------------------------------------------------------------------===//
#include "qc/Runtime/ElfCheck.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <string>
#include <vector>

namespace {

struct Tensor {
  void *data;
  const int64_t *shape;
  int32_t rank;
  int32_t dtype;
};
struct TensorInfo {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
};

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "qc-runner: error: %s\n", msg.c_str());
  std::exit(2);
}

/// The .npy descr of an ONNX dtype code, and its element size.
const char *descrOf(int32_t dtype, size_t &size) {
  switch (dtype) {
  case 1: size = 4; return "<f4";
  case 2: size = 1; return "|u1";
  case 3: size = 1; return "|i1";
  case 4: size = 2; return "<u2";
  case 5: size = 2; return "<i2";
  case 6: size = 4; return "<i4";
  case 7: size = 8; return "<i8";
  case 9: size = 1; return "|b1";
  case 10: size = 2; return "<f2";
  case 11: size = 8; return "<f8";
  case 12: size = 4; return "<u4";
  case 13: size = 8; return "<u8";
  }
  size = 0;
  return nullptr;
}

struct Npy {
  std::string descr;
  std::vector<int64_t> shape;
  std::vector<char> data;
};

Npy readNpy(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    die("cannot open '" + path + "'");
  char magic[8];
  if (std::fread(magic, 1, 8, f) != 8 || std::memcmp(magic, "\x93NUMPY", 6))
    die("'" + path + "' is not a .npy file");
  uint32_t hlen = 0;
  unsigned char b[4] = {0, 0, 0, 0};
  size_t nb = magic[6] == 1 ? 2 : 4;
  if (std::fread(b, 1, nb, f) != nb)
    die("'" + path + "': truncated header");
  hlen = b[0] | (b[1] << 8) | (nb == 4 ? (b[2] << 16) | (uint32_t(b[3]) << 24)
                                       : 0);
  std::string header(hlen, '\0');
  if (std::fread(header.data(), 1, hlen, f) != hlen)
    die("'" + path + "': truncated header");
  Npy npy;
  auto field = [&](const char *key) {
    size_t at = header.find(key);
    if (at == std::string::npos)
      die("'" + path + "': no " + key + " in the header");
    return header.substr(at + std::strlen(key));
  };
  std::string d = field("'descr':");
  size_t q1 = d.find('\''), q2 = d.find('\'', q1 + 1);
  npy.descr = d.substr(q1 + 1, q2 - q1 - 1);
  if (field("'fortran_order':").find("True") < 8)
    die("'" + path + "': Fortran order is not supported");
  std::string s = field("'shape':");
  s = s.substr(s.find('(') + 1, s.find(')') - s.find('(') - 1);
  for (char *p = s.data(); *p;) {
    char *end;
    long long v = std::strtoll(p, &end, 10);
    if (end == p) {
      ++p;
      continue;
    }
    npy.shape.push_back(v);
    p = end;
  }
  long pos = std::ftell(f);
  std::fseek(f, 0, SEEK_END);
  long end = std::ftell(f);
  std::fseek(f, pos, SEEK_SET);
  npy.data.resize(size_t(end - pos));
  if (!npy.data.empty() &&
      std::fread(npy.data.data(), 1, npy.data.size(), f) != npy.data.size())
    die("'" + path + "': truncated data");
  std::fclose(f);
  return npy;
}

void writeNpy(const std::string &path, const char *descr,
              const std::vector<int64_t> &shape, const void *data,
              size_t bytes) {
  std::string h = std::string("{'descr': '") + descr +
                  "', 'fortran_order': False, 'shape': (";
  for (int64_t d : shape)
    h += std::to_string(d) + ", ";
  if (shape.size() > 1)
    h.resize(h.size() - 1), h.back() = ')';
  else
    h += ")";
  h += ", }";
  while ((10 + h.size() + 1) % 64)
    h += ' ';
  h += '\n';
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    die("cannot write '" + path + "'");
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           (unsigned char)(h.size() & 0xff),
                           (unsigned char)(h.size() >> 8)};
  std::fwrite(pre, 1, 10, f);
  std::fwrite(h.data(), 1, h.size(), f);
  std::fwrite(data, 1, bytes, f);
  std::fclose(f);
}

/// `s` as a JSON string body.
std::string jsonEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if ((unsigned char)c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out;
}

double valueAt(const char *p, int32_t dtype, size_t i) {
  switch (dtype) {
  case 1: return reinterpret_cast<const float *>(p)[i];
  case 2: return reinterpret_cast<const uint8_t *>(p)[i];
  case 3: return reinterpret_cast<const int8_t *>(p)[i];
  case 5: return reinterpret_cast<const int16_t *>(p)[i];
  case 6: return reinterpret_cast<const int32_t *>(p)[i];
  case 7: return double(reinterpret_cast<const int64_t *>(p)[i]);
  case 9: return reinterpret_cast<const uint8_t *>(p)[i];
  case 11: return reinterpret_cast<const double *>(p)[i];
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string lib, prefix, outDir;
  std::vector<std::string> inputs, expects;
  double rtol = -1, atol = 0, scaled = -1;
  int repeat = 0, warmup = 3;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc)
        die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--prefix") prefix = next();
    else if (a == "--input") inputs.push_back(next());
    else if (a == "--expect") expects.push_back(next());
    else if (a == "--output-dir") outDir = next();
    else if (a == "--rtol") rtol = std::atof(next().c_str());
    else if (a == "--atol") atol = std::atof(next().c_str());
    else if (a == "--scaled-tol") scaled = std::atof(next().c_str());
    else if (a == "--repeat") repeat = std::atoi(next().c_str());
    else if (a == "--warmup") warmup = std::atoi(next().c_str());
    else if (a == "--json") json = true;
    else if (a == "-h" || a == "--help") {
      std::puts("usage: qc-runner LIB.so [--prefix P] [--input FILE.npy]... "
                "[--output-dir DIR] [--expect FILE.npy]... [--rtol R] "
                "[--atol A] [--scaled-tol S] [--repeat N] [--warmup N] [--json]");
      return 0;
    } else if (!a.empty() && a[0] == '-') die("unknown option " + a);
    else if (lib.empty()) lib = a;
    else die("more than one library: " + lib + ", " + a);
  }
  if (lib.empty())
    die("no model library given (qc-runner --help)");
  if (prefix.empty()) {
    std::string stem = lib.substr(lib.find_last_of('/') + 1);
    stem = stem.substr(0, stem.find('.'));
    if (stem.rfind("lib", 0) == 0 && stem.size() > 3)
      stem = stem.substr(3);
    for (char &c : stem)
      if (!std::isalnum((unsigned char)c))
        c = '_';
    prefix = stem;
  }
  std::string path = lib.find('/') == std::string::npos ? "./" + lib : lib;
  if (std::string why = qc::checkSharedLibrary(path); !why.empty())
    die("cannot load '" + lib + "': " + why);
  void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h)
    die(std::string("cannot load '") + lib + "': " + dlerror());
  auto sym = [&](const char *name, bool required) {
    void *s = dlsym(h, (prefix + "_" + name).c_str());
    if (!s && required)
      die("'" + lib + "' has no " + prefix + "_" + name +
          " (give the prefix with --prefix)");
    return s;
  };
  using RunFn = int32_t (*)(const Tensor *, Tensor *);
  using TimeFn = int32_t (*)(const Tensor *, Tensor *, int32_t, int32_t,
                             float *);
  using CountFn = int32_t (*)();
  using InfoFn = const TensorInfo *(*)(int32_t);
  using ErrorFn = const char *(*)();
  auto run = (RunFn)sym("run", true);
  auto time = (TimeFn)sym("time", false);
  auto lastError = (ErrorFn)sym("last_error", false);
  int nIn = ((CountFn)sym("num_inputs", true))();
  int nOut = ((CountFn)sym("num_outputs", true))();
  auto inInfo = (InfoFn)sym("input_info", true);
  auto outInfo = (InfoFn)sym("output_info", true);
  bool gpu = time != nullptr;
  if (int(inputs.size()) != nIn)
    die(lib + " takes " + std::to_string(nIn) + " inputs, " +
        std::to_string(inputs.size()) + " given");
  if (!expects.empty() && int(expects.size()) != nOut)
    die(lib + " has " + std::to_string(nOut) + " outputs, " +
        std::to_string(expects.size()) + " expected files given");
  std::vector<Npy> in(nIn);
  std::vector<Tensor> inT(nIn), outT(nOut);
  std::vector<std::vector<char>> outData(nOut);
  for (int i = 0; i < nIn; ++i) {
    const TensorInfo *info = inInfo(i);
    in[i] = readNpy(inputs[i]);
    size_t es;
    const char *descr = descrOf(info->dtype, es);
    int64_t n = 1;
    for (int d = 0; d < info->rank; ++d)
      n *= info->shape[d];
    if (!descr || in[i].descr != descr || in[i].data.size() != size_t(n) * es)
      die("input " + std::to_string(i) + " ('" + info->name + "'): " +
          inputs[i] + " holds " + in[i].descr + " x " +
          std::to_string(in[i].data.size()) + " bytes, the model takes " +
          (descr ? descr : "?") + " x " + std::to_string(n * es) + " bytes");
    inT[i] = {in[i].data.data(), info->shape, info->rank, info->dtype};
  }
  for (int i = 0; i < nOut; ++i) {
    const TensorInfo *info = outInfo(i);
    size_t es;
    descrOf(info->dtype, es);
    int64_t n = 1;
    for (int d = 0; d < info->rank; ++d)
      n *= info->shape[d];
    outData[i].assign(size_t(n) * es, 0);
    outT[i] = {outData[i].data(), info->shape, info->rank, info->dtype};
  }
  auto check = [&](int32_t rc, const char *what) {
    if (rc == 0)
      return;
    std::string why = rc > 0 ? "tensor " + std::to_string(rc - 1) +
                                   " has the wrong dtype or shape"
                      : lastError ? lastError()
                                  : "error";
    die(std::string(what) + " failed: " + why);
  };
  check(run(inT.data(), outT.data()), (prefix + "_run").c_str());
  float ms[3] = {0, 0, 0};
  if (repeat > 0) {
    if (gpu) {
      check(time(inT.data(), outT.data(), warmup, repeat, ms),
            (prefix + "_time").c_str());
    } else {
      std::vector<float> t;
      for (int i = 0; i < warmup; ++i)
        check(run(inT.data(), outT.data()), "run");
      for (int i = 0; i < repeat; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        check(run(inT.data(), outT.data()), "run");
        t.push_back(std::chrono::duration<float, std::milli>(
                        std::chrono::steady_clock::now() - t0)
                        .count());
      }
      double sum = 0;
      for (float x : t)
        sum += x;
      std::sort(t.begin(), t.end());
      ms[0] = t[t.size() / 2], ms[1] = t[0], ms[2] = float(sum / t.size());
    }
  }
  if (!outDir.empty())
    for (int i = 0; i < nOut; ++i) {
      const TensorInfo *info = outInfo(i);
      size_t es;
      const char *descr = descrOf(info->dtype, es);
      writeNpy(outDir + "/output_" + std::to_string(i) + ".npy", descr,
               std::vector<int64_t>(info->shape, info->shape + info->rank),
               outData[i].data(), outData[i].size());
    }
  bool allOk = true;
  std::string results;
  for (int i = 0; i < int(expects.size()); ++i) {
    const TensorInfo *info = outInfo(i);
    Npy e = readNpy(expects[i]);
    size_t es;
    const char *descr = descrOf(info->dtype, es);
    if (e.descr != descr || e.data.size() != outData[i].size())
      die("expected output " + std::to_string(i) + " (" + expects[i] +
          ") is " + e.descr + " x " + std::to_string(e.data.size()) +
          " bytes; the model's is " + descr + " x " +
          std::to_string(outData[i].size()) + " bytes");
    size_t n = outData[i].size() / es, differ = 0;
    double maxAbs = 0, maxRel = 0, maxRef = 0;
    for (size_t k = 0; k < n; ++k)
      maxRef = std::max(maxRef, std::fabs(valueAt(e.data.data(), info->dtype, k)));
    bool exact = std::memcmp(e.data.data(), outData[i].data(),
                             outData[i].size()) == 0;
    for (size_t k = 0; k < n; ++k) {
      double a = valueAt(outData[i].data(), info->dtype, k);
      double b = valueAt(e.data.data(), info->dtype, k);
      double d = std::fabs(a - b);
      bool ok = scaled >= 0 ? d <= scaled * maxRef
                : rtol < 0    ? a == b || (std::isnan(a) && std::isnan(b))
                              : d <= atol + rtol * std::fabs(b);
      differ += !ok;
      maxAbs = std::max(maxAbs, d);
      if (b != 0)
        maxRel = std::max(maxRel, d / std::fabs(b));
    }
    if (rtol < 0 && scaled < 0 && !exact && differ == 0)
      differ = 1; // bytes differ where values compare equal (-0, NaNs)
    allOk &= differ == 0;
    char line[2048];
    if (json)
      std::snprintf(line, sizeof line,
                    "%s{\"output\": \"%s\", \"elements\": %zu, \"bit_exact\": "
                    "%s, \"mismatches\": %zu, \"max_abs_diff\": %.9g, "
                    "\"max_rel_diff\": %.9g}",
                    results.empty() ? "" : ", ", jsonEscape(info->name).c_str(), n,
                    exact ? "true" : "false", differ, maxAbs, maxRel);
    else
      std::snprintf(line, sizeof line,
                    "output %d '%s': %zu elements, %s, %zu mismatches, max "
                    "abs diff %.3g, max rel diff %.3g\n",
                    i, info->name, n, exact ? "bit-exact" : "not bit-exact",
                    differ, maxAbs, maxRel);
    results += line;
  }
  if (json) {
    std::printf("{\"library\": \"%s\", \"target\": \"%s\", \"ok\": %s, "
                "\"outputs\": [%s]",
                jsonEscape(lib).c_str(), gpu ? "cuda" : "cpu", allOk ? "true" : "false",
                results.c_str());
    if (repeat > 0)
      std::printf(", \"timing\": {\"repeat\": %d, \"clock\": \"%s\", "
                  "\"median_ms\": %.6f, \"min_ms\": %.6f, \"mean_ms\": %.6f}",
                  repeat, gpu ? "cuda_events" : "wall", ms[0], ms[1], ms[2]);
    std::printf("}\n");
  } else {
    std::fputs(results.c_str(), stdout);
    if (repeat > 0)
      std::printf("%s: median %.4f ms, min %.4f ms, mean %.4f ms over %d runs "
                  "(%s)\n",
                  lib.c_str(), ms[0], ms[1], ms[2], repeat,
                  gpu ? "CUDA events" : "wall clock");
  }
  return allOk ? 0 : 1;
}
