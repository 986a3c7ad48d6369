// hnswlib-node (HNSW, M=16, efConstruction=100, ef=64) over the suite's data files; see common.js.
'use strict';
const { parseArgs, report, nowUs } = require('./common.js');
const { HierarchicalNSW } = require('hnswlib-node');

const args = parseArgs();
if (global.gc) global.gc();
const rssBeforeBuild = process.memoryUsage().rss;
const start = nowUs();
const index = new HierarchicalNSW(args.metric === 'cos' ? 'cosine' : 'l2', args.dimension);
index.initIndex(args.count, 16, 100, 100);
for (let i = 0; i < args.count; i++) {
  index.addPoint(Array.from(args.base.subarray(i * args.dimension, (i + 1) * args.dimension)), i);
}
index.setEf(64);
const buildMs = (nowUs() - start) / 1000;
report(args, rssBeforeBuild, buildMs, (query) => index.searchKnn(Array.from(query), args.k).neighbors);
