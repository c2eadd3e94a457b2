// ort-run.js - runs an ONNX model with ONNX Runtime (npm onnxruntime-node)
// on .npy inputs: the reference quant-run's results are compared with, and
// the peer it is timed against.
//
//   node scripts/ort-run.js MODEL.onnx -i NAME=FILE.npy ... [-o OUTDIR]
//        [--repeat N] [--warmup W] [--threads T] [--ort-dir DIR] [--stacked]
//        [--json]
//
// ONNX Runtime comes from DIR/node_modules (QC_ORT_DIR or --ort-dir;
// scripts/install-ort.sh prints it). Outputs land in OUTDIR/<name>.npy; with
// --repeat it prints "median_ms=X min_ms=Y max_ms=Z runs=N warmup=W" like
// quant-run. --stacked: every input file holds samples stacked on a new first
// axis; each sample is run and the outputs are written stacked the same way
// (one process for a whole evaluation set; --repeat times the first sample).
// --json: stdout is one JSON object instead, {"model", "threads", "inputs":
// [names], "outputs": [names], "samples", "timing": null | {"median_ms",
// "min_ms", "max_ms", "runs", "warmup"}}, as quant-run --json has it.
// QC_ORT_OPT sets the graph optimization level (default 'all'; 'basic',
// 'extended', 'disabled').
// Failures: a one-line reason on stderr, exit status 1.
'use strict';
const fs = require('fs');
const path = require('path');

function die(msg) {
  process.stderr.write(`ort-run: error: ${msg}\n`);
  process.exit(1);
}

// numpy descr <-> ORT tensor type and typed array.
const TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array],
  '<i2': ['int16', Int16Array], '<u2': ['uint16', Uint16Array],
  '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array],
  '|b1': ['bool', Uint8Array], '<u8': ['uint64', BigUint64Array],
  '<u4': ['uint32', Uint32Array], '<f2': ['float16', Uint16Array],
};
const DESCR = Object.fromEntries(Object.entries(TYPES).map(([d, [t]]) => [t, d]));

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') die(`${file} is not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) die(`${file} is in Fortran order`);
  const dims = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',')
      .map((s) => s.trim()).filter((s) => s).map(Number);
  const type = TYPES[descr.replace('=', '<')];
  if (!type) die(`${file}: unsupported dtype ${descr}`);
  const bytes = buf.subarray(start + hlen);
  const n = dims.reduce((a, b) => a * b, 1);
  const copy = new Uint8Array(n * type[1].BYTES_PER_ELEMENT);
  copy.set(bytes.subarray(0, copy.length));
  let data = new type[1](copy.buffer);
  if (type[0] === 'bool') data = Uint8Array.from(data, (v) => v !== 0);
  return { type: type[0], dims, data };
}

function writeNpy(file, tensor) {
  const descr = DESCR[tensor.type];
  if (!descr) die(`cannot write output of type ${tensor.type}`);
  const dims = tensor.dims.map(Number);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const data = tensor.data;
  const body = tensor.type === 'bool'
      ? Buffer.from(Uint8Array.from(data, (v) => (v ? 1 : 0)))
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const args = process.argv.slice(2);
  const opts = { inputs: [], repeat: 0, warmup: 3, threads: 1,
                 ortDir: process.env.QC_ORT_DIR };
  let model;
  for (let i = 0; i < args.length; ++i) {
    const a = args[i], next = () => (i + 1 < args.length ? args[++i] : die(`${a} needs a value`));
    if (a === '-i' || a === '--input') opts.inputs.push(next());
    else if (a === '-o') opts.out = next();
    else if (a === '--repeat') opts.repeat = Number(next());
    else if (a === '--warmup') opts.warmup = Number(next());
    else if (a === '--threads') opts.threads = Number(next());
    else if (a === '--ort-dir') opts.ortDir = next();
    else if (a === '--stacked') opts.stacked = true;
    else if (a === '--json') opts.json = true;
    else if (a.startsWith('-')) die(`unknown option ${a}`);
    else if (!model) model = a;
    else die(`unexpected argument ${a}`);
  }
  if (!model) die('usage: ort-run.js MODEL.onnx -i NAME=FILE.npy ... [-o OUTDIR] [--repeat N]');
  if (!opts.ortDir) die('set QC_ORT_DIR or --ort-dir (scripts/install-ort.sh prints it)');
  let ort;
  try {
    ort = require(path.join(path.resolve(opts.ortDir), 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    die(`cannot load onnxruntime-node from ${opts.ortDir}: ${e.message.split('\n')[0]}`);
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: opts.threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: process.env.QC_ORT_OPT || 'all',
    executionProviders: ['cpu'],
  }).catch((e) => die(`cannot load ${model}: ${e.message.split('\n')[0]}`));
  const inputs = {};
  opts.inputs.forEach((spec, k) => {
    const eq = spec.indexOf('=');
    const name = eq > 0 ? spec.slice(0, eq) : session.inputNames[k];
    inputs[name] = readNpy(eq > 0 ? spec.slice(eq + 1) : spec);
  });
  for (const name of session.inputNames)
    if (!(name in inputs)) die(`missing input '${name}'`);
  // The feeds of sample k (all of them are sample 0 unless --stacked).
  let samples = 1;
  if (opts.stacked) {
    samples = inputs[session.inputNames[0]].dims[0];
    for (const [name, t] of Object.entries(inputs))
      if (!t.dims.length || t.dims[0] !== samples)
        die(`--stacked: input '${name}' holds ${t.dims[0]} samples, expected ${samples}`);
  }
  const feedsOf = (k) => {
    const feeds = {};
    for (const [name, t] of Object.entries(inputs)) {
      if (!opts.stacked) {
        feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
        continue;
      }
      const dims = t.dims.slice(1), n = dims.reduce((a, b) => a * b, 1);
      feeds[name] = new ort.Tensor(t.type, t.data.slice(k * n, (k + 1) * n), dims);
    }
    return feeds;
  };
  const run = (feeds) => session.run(feeds).catch((e) => die(e.message.split('\n')[0]));
  const first = feedsOf(0);
  const results = [await run(first)];
  for (let k = 1; k < samples; ++k) results.push(await run(feedsOf(k)));
  let timing = null;
  if (opts.repeat > 0) {
    for (let i = 0; i < opts.warmup; ++i) await run(first);
    const ms = [];
    for (let i = 0; i < opts.repeat; ++i) {
      const t0 = process.hrtime.bigint();
      await run(first);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((a, b) => a - b);
    const h = ms.length >> 1;
    const median = ms.length % 2 ? ms[h] : (ms[h - 1] + ms[h]) / 2;
    timing = { median_ms: median, min_ms: ms[0], max_ms: ms[ms.length - 1],
               runs: opts.repeat, warmup: opts.warmup };
    if (!opts.json)
      console.log(`median_ms=${median.toFixed(4)} min_ms=${ms[0].toFixed(4)} ` +
                  `max_ms=${ms[ms.length - 1].toFixed(4)} runs=${opts.repeat} ` +
                  `warmup=${opts.warmup}`);
  }
  if (opts.out) {
    fs.mkdirSync(opts.out, { recursive: true });
    for (const name of session.outputNames) {
      let t = results[0][name];
      if (opts.stacked) {
        // Concatenate the samples' outputs under a new first axis.
        const parts = results.map((r) => r[name].data);
        const data = new parts[0].constructor(parts.reduce((a, p) => a + p.length, 0));
        parts.reduce((off, p) => (data.set(p, off), off + p.length), 0);
        t = { type: t.type, dims: [samples, ...t.dims], data };
      }
      writeNpy(path.join(opts.out, name.replace(/\//g, '_') + '.npy'), t);
    }
  }
  if (opts.json)
    console.log(JSON.stringify({ model, threads: opts.threads, inputs: session.inputNames,
                                 outputs: session.outputNames, samples, timing }));
}

main();
