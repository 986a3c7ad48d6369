// Shared by the peer scripts: reads the data files the `vectors` suite writes and reports in the
// format it parses. Arguments: base.f32 queries.f32 count queryCount dimension metric(l2|cos) k out.i32
'use strict';
const fs = require('fs');

function readFloats(path) {
  const bytes = fs.readFileSync(path);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

function parseArgs() {
  const [base, queries, count, queryCount, dimension, metric, k, out] = process.argv.slice(2);
  return {
    base: readFloats(base), queries: readFloats(queries), count: +count, queryCount: +queryCount,
    dimension: +dimension, metric, k: +k, out,
  };
}

function nowUs() { return Number(process.hrtime.bigint()) / 1000; }

// Runs the queries one at a time on this thread; writes the result ids (int32, -1 padded) to `out`
// and prints one JSON line with build time, RSS before/after the build and each query's latency.
function report(args, rssBeforeBuild, buildMs, searchOne) {
  const ids = new Int32Array(args.queryCount * args.k).fill(-1);
  const latencies = new Array(args.queryCount);
  for (let q = 0; q < Math.min(20, args.queryCount); q++) searchOne(args.queries.subarray(q * args.dimension, (q + 1) * args.dimension));
  for (let q = 0; q < args.queryCount; q++) {
    const query = args.queries.subarray(q * args.dimension, (q + 1) * args.dimension);
    const start = nowUs();
    const found = searchOne(query);
    latencies[q] = nowUs() - start;
    for (let i = 0; i < Math.min(args.k, found.length); i++) ids[q * args.k + i] = found[i];
  }
  fs.writeFileSync(args.out, Buffer.from(ids.buffer));
  if (global.gc) global.gc();
  console.log(JSON.stringify({ buildMs, rssBeforeBuild, rssAfterBuild: process.memoryUsage().rss, latenciesUs: latencies }));
}

module.exports = { parseArgs, report, nowUs };
