//===- Samples.cpp - model inputs from files, outputs against references --===//
#include "qc/Runtime/Samples.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include <algorithm>
#include <cmath>

using namespace qc;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

static Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

//===----------------------------------------------------------------------===//
// Samples
//===----------------------------------------------------------------------===//

static std::vector<std::string> sortedEntries(StringRef dir,
                                              std::error_code &ec) {
  std::vector<std::string> out;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    out.push_back(it->path());
  llvm::sort(out, [](const std::string &a, const std::string &b) {
    // Natural order: sample_2 before sample_10.
    StringRef x(a), y(b);
    size_t i = 0;
    while (i < x.size() && i < y.size() && x[i] == y[i] && !llvm::isDigit(x[i]))
      ++i;
    unsigned long long nx, ny;
    if (!x.substr(i).take_while(llvm::isDigit).getAsInteger(10, nx) &&
        !y.substr(i).take_while(llvm::isDigit).getAsInteger(10, ny) && nx != ny)
      return nx < ny;
    return a < b;
  });
  return out;
}

/// Binds named tensors to the inputs (by name, else in order) and checks
/// their dtypes and shapes.
static Expected<Sample> bindSample(std::vector<HostTensor> tensors,
                                   llvm::ArrayRef<TensorSpec> inputs,
                                   StringRef file) {
  Sample s(inputs.size());
  std::vector<bool> bound(inputs.size(), false);
  std::vector<HostTensor *> unnamed;
  for (HostTensor &t : tensors) {
    auto it = llvm::find_if(
        inputs, [&](const TensorSpec &in) { return in.name == t.name; });
    if (it == inputs.end()) {
      unnamed.push_back(&t);
      continue;
    }
    size_t i = it - inputs.begin();
    s[i] = std::move(t);
    bound[i] = true;
  }
  size_t next = 0;
  for (HostTensor *t : unnamed) {
    while (next < inputs.size() && bound[next])
      ++next;
    if (next == inputs.size())
      return err(file + ": holds more tensors than the model has inputs");
    s[next] = std::move(*t);
    bound[next] = true;
  }
  for (auto [i, in] : llvm::enumerate(inputs)) {
    if (!bound[i])
      return err(file + ": no tensor for input '" + in.name + "'");
    if (s[i].dtype != in.dtype)
      return err(file + ": input '" + in.name + "' is " +
                 dtypeName(s[i].dtype) + " but the model takes " +
                 dtypeName(in.dtype));
    if (s[i].shape != in.shape)
      return err(file + ": input '" + in.name + "' has shape " +
                 formatShape(s[i].shape) + " but the model takes " +
                 formatShape(in.shape));
    s[i].name = in.name;
  }
  return s;
}

/// Splits an array whose leading dim stacks samples of `shape`.
static std::vector<HostTensor> unstack(const HostTensor &t,
                                       llvm::ArrayRef<int64_t> shape) {
  if (llvm::ArrayRef<int64_t>(t.shape) == shape ||
      t.shape.size() != shape.size() + 1 ||
      !std::equal(shape.begin(), shape.end(), t.shape.begin() + 1))
    return {t};
  std::vector<HostTensor> out;
  size_t bytes = t.data.size() / std::max<int64_t>(t.shape[0], 1);
  for (int64_t i = 0; i < t.shape[0]; ++i) {
    HostTensor s{t.name, t.dtype, shape.vec(), {}};
    s.data.assign(t.data.begin() + i * bytes, t.data.begin() + (i + 1) * bytes);
    out.push_back(std::move(s));
  }
  return out;
}

Expected<std::vector<Sample>> qc::readSamples(StringRef path,
                                              llvm::ArrayRef<TensorSpec> inputs,
                                              size_t limit) {
  std::vector<Sample> samples;
  auto full = [&] { return limit && samples.size() >= limit; };
  if (!llvm::sys::fs::is_directory(path)) {
    if (llvm::sys::path::extension(path) != ".npz")
      return err("calibration data '" + path +
                 "' is neither a directory nor a .npz file");
    auto arrays = readNpz(path);
    if (!arrays)
      return arrays.takeError();
    // Each array: one sample, or samples stacked along a leading dim.
    std::vector<std::vector<HostTensor>> perInput;
    size_t n = SIZE_MAX;
    for (HostTensor &t : *arrays) {
      auto it = llvm::find_if(
          inputs, [&](const TensorSpec &in) { return in.name == t.name; });
      llvm::ArrayRef<int64_t> shape =
          it != inputs.end()
              ? llvm::ArrayRef<int64_t>(it->shape)
              : (inputs.size() == 1 ? llvm::ArrayRef<int64_t>(inputs[0].shape)
                                    : llvm::ArrayRef<int64_t>(t.shape));
      perInput.push_back(unstack(t, shape));
      n = std::min(n, perInput.back().size());
    }
    for (size_t i = 0; i < n && !full(); ++i) {
      std::vector<HostTensor> tensors;
      for (auto &p : perInput)
        tensors.push_back(p[i]);
      auto s = bindSample(std::move(tensors), inputs, path);
      if (!s)
        return s.takeError();
      samples.push_back(std::move(*s));
    }
    return samples;
  }
  std::error_code ec;
  std::vector<std::string> entries = sortedEntries(path, ec);
  if (ec)
    return err("cannot read calibration directory '" + path +
               "': " + ec.message());
  for (const std::string &e : entries) {
    if (full())
      break;
    StringRef ext = llvm::sys::path::extension(e);
    std::vector<HostTensor> tensors;
    if (llvm::sys::fs::is_directory(e)) {
      if (!llvm::sys::path::filename(e).starts_with("test_data_set_"))
        continue;
      std::vector<std::string> files = sortedEntries(e, ec);
      for (const std::string &f : files) {
        StringRef name = llvm::sys::path::filename(f);
        if (!name.starts_with("input_") || !name.ends_with(".pb"))
          continue;
        auto t = readTensorProto(f);
        if (!t)
          return t.takeError();
        tensors.push_back(std::move(*t));
      }
    } else if (ext == ".npz") {
      auto arrays = readNpz(e);
      if (!arrays)
        return arrays.takeError();
      tensors = std::move(*arrays);
    } else if (ext == ".npy") {
      if (inputs.size() != 1)
        return err(
            e +
            ": a .npy sample serves single-input models only; this model has " +
            llvm::Twine(inputs.size()) + " inputs (use .npz with their names)");
      auto t = readNpy(e);
      if (!t)
        return t.takeError();
      t->name = inputs[0].name;
      tensors.push_back(std::move(*t));
    } else {
      continue;
    }
    auto s = bindSample(std::move(tensors), inputs, e);
    if (!s)
      return s.takeError();
    samples.push_back(std::move(*s));
  }
  if (samples.empty())
    return err("no calibration samples in '" + path +
               "' (expected .npz, .npy or test_data_set_*/input_*.pb)");
  return samples;
}

//===----------------------------------------------------------------------===//
// Agreement
//===----------------------------------------------------------------------===//

static const float *floats(const HostTensor &t) {
  return reinterpret_cast<const float *>(t.data.data());
}

void Agreement::add(const HostTensor &ref, const HostTensor &got) {
  if (ref.dtype != DType::Float || got.dtype != DType::Float ||
      ref.numElements() != got.numElements())
    return;
  const float *f = floats(ref), *q = floats(got);
  int64_t n = ref.numElements();
  for (int64_t i = 0; i < n; ++i) {
    signal += double(f[i]) * f[i];
    noise += (double(f[i]) - q[i]) * (double(f[i]) - q[i]);
    dot += double(f[i]) * q[i];
    refNorm += double(f[i]) * f[i];
    gotNorm += double(q[i]) * q[i];
  }
  int64_t last = ref.shape.empty() ? 1 : ref.shape.back();
  if (last < 2)
    return;
  for (int64_t r = 0; r < n / last; ++r) {
    const float *fr = f + r * last, *qr = q + r * last;
    agree += std::max_element(fr, fr + last) - fr ==
             std::max_element(qr, qr + last) - qr;
    ++rows;
  }
}

void Agreement::finish() {
  sqnrDb = noise > 0 ? 10 * std::log10(signal / noise) : INFINITY;
  cosine =
      refNorm > 0 && gotNorm > 0 ? dot / std::sqrt(refNorm * gotNorm) : 1.0;
  top1 = rows ? double(agree) / rows : NAN;
}
