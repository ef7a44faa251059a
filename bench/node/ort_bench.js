#!/usr/bin/env node
// Peer of bench/engine_bench.cpp: the same model, input, thread count and session settings
// (ORT_ENABLE_ALL, sequential, 1 inter-op thread, spinning off) on ONNX Runtime from Microsoft's
// onnxruntime-node npm package (pinned in package-lock.json). Prints the same JSON line.
//
//   node bench/node/ort_bench.js --model bench/models/resnet50/1/model.onnx [--threads 2] [--runs 30]
//        [--warmup 5] [--batch 8] [--max-seconds 60]
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

function parse(argv) {
  const a = { model: '', threads: 2, runs: 30, warmup: 5, batch: 8, maxSeconds: 60 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) usage();
    if (k === '--model') a.model = v;
    else if (k === '--threads') a.threads = parseInt(v, 10);
    else if (k === '--runs') a.runs = Math.max(1, parseInt(v, 10));
    else if (k === '--warmup') a.warmup = Math.max(0, parseInt(v, 10));
    else if (k === '--batch') a.batch = Math.max(1, parseInt(v, 10));
    else if (k === '--max-seconds') a.maxSeconds = parseFloat(v);
    else usage();
  }
  if (!a.model) usage();
  return a;
}

function usage() {
  console.error('usage: ort_bench.js --model FILE.onnx [--threads N] [--runs N] [--warmup N] [--batch N] [--max-seconds S]');
  process.exit(64);
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

async function phase(session, batch, a) {
  const name = session.inputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  let shape = meta && meta.isTensor && meta.shape ? meta.shape.slice() : null;
  if (!shape) throw new Error('cannot read the input shape');
  shape = shape.map((d, i) => (typeof d === 'number' && d >= 0 ? d : i === 0 ? batch : 1));
  const n = shape.reduce((p, d) => p * d, 1);
  const x = new Float32Array(n);
  for (let i = 0; i < n; ++i) x[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  const feeds = { [name]: new ort.Tensor('float32', x, shape) };
  const deadline = nowMs() + a.maxSeconds * 1000;
  let out;
  for (let i = 0; i < a.warmup && nowMs() < deadline; ++i) out = await session.run(feeds);
  const ms = [];
  for (let i = 0; i < a.runs && (i < 3 || nowMs() < deadline); ++i) {
    const t0 = nowMs();
    out = await session.run(feeds);
    ms.push(nowMs() - t0);
  }
  ms.sort((p, q) => p - q);
  const m = ms.length % 2 ? ms[(ms.length - 1) / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
  let checksum = 0;
  const y = out[session.outputNames[0]].data;
  for (let i = 0; i < y.length; ++i) checksum += y[i] * ((i % 7) + 1);
  return { median: m, runs: ms.length, checksum };
}

async function main() {
  const a = parse(process.argv.slice(2));
  const t0 = nowMs();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const loadMs = nowMs() - t0;
  const b1 = await phase(session, 1, a);
  const bn = await phase(session, a.batch, a);
  console.log(JSON.stringify({
    engine: `onnxruntime-node ${ort.env.versions.node}`,
    model: a.model, threads: a.threads, load_ms: +loadMs.toFixed(1),
    b1_median_ms: +b1.median.toFixed(4), b1_runs: b1.runs, batch: a.batch,
    bn_median_ms: +bn.median.toFixed(4), bn_runs: bn.runs,
    bn_items_per_s: +(a.batch * 1000 / bn.median).toFixed(2), checksum: +b1.checksum.toPrecision(7),
  }));
}

main().catch((e) => { console.error('ort_bench:', e && e.message ? e.message : e); process.exit(2); });
