// usearch (HNSW, f32, default connectivity/expansion) over the suite's data files; see common.js.
'use strict';
const { parseArgs, report, nowUs } = require('./common.js');
const usearch = require('usearch');

const args = parseArgs();
if (global.gc) global.gc();
const rssBeforeBuild = process.memoryUsage().rss;
const start = nowUs();
const index = new usearch.Index({ dimensions: args.dimension, metric: args.metric === 'cos' ? 'cos' : 'l2sq', connectivity: 16 });
const keys = new BigUint64Array(args.count);
for (let i = 0; i < args.count; i++) keys[i] = BigInt(i);
index.add(keys, args.base.subarray(0, args.count * args.dimension), 0);
const buildMs = (nowUs() - start) / 1000;
report(args, rssBeforeBuild, buildMs, (query) => {
  const result = index.search(query, args.k, 1);
  return Array.from(result.keys, (key) => Number(key));
});
