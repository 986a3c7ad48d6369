namespace CortexEdge.Benchmarks.Mqtt;

/// <summary>The MQTT.js side of the `mqtt` suite, written to a temporary file and run with node.</summary>
internal static class MqttJsPeer
{
    public const string Script = """
// MQTT.js peer for the `mqtt` benchmark suite: the same measurements as MqttBenchmarkSuite, through
// the same mosquitto, with MQTT 3.1.1 and 256-byte payloads. Prints one JSON line.
//   node mqttjs-peer.js <port> throughput <count> <qos> <window>
//   node mqttjs-peer.js <port> latency <samples> <qos>
const mqtt = require('mqtt');
const [, , portText, mode, countText, qosText, windowText] = process.argv;
const port = Number(portText), count = Number(countText), qos = Number(qosText), window = Number(windowText || 1);
const payload = Buffer.alloc(256, 7);

function connect(id) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 4, clientId: id, clean: true, reconnectPeriod: 0 });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}
const publish = (client, topic, q) => new Promise((resolve, reject) => client.publish(topic, payload, { qos: q }, e => (e ? reject(e) : resolve())));
const subscribe = (client, topic, q) => new Promise((resolve, reject) => client.subscribe(topic, { qos: q }, e => (e ? reject(e) : resolve())));
const end = client => new Promise(resolve => client.end(false, {}, resolve));
const now = () => process.hrtime.bigint();
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

async function throughput() {
  const client = await connect('js-tp-' + process.pid);
  const topic = 'bench/js/throughput/' + process.pid;
  for (let i = 0; i < 500; i++) await publish(client, topic, qos); // warm-up
  const start = now();
  if (qos === 0) {
    for (let i = 0; i < count; i++) client.publish(topic, payload, { qos: 0 });
    await publish(client, topic, 1); // the broker has read everything before it
  } else {
    await new Promise((resolve, reject) => {
      let inflight = 0, sent = 0, done = 0;
      const pump = () => {
        while (inflight < window && sent < count) {
          inflight++; sent++;
          client.publish(topic, payload, { qos }, e => {
            if (e) return reject(e);
            inflight--; done++;
            if (done === count) resolve(); else pump();
          });
        }
      };
      pump();
    });
  }
  const seconds = Number(now() - start) / 1e9;
  await end(client);
  return { messagesPerSecond: count / seconds };
}

async function latency() {
  const topic = 'bench/js/latency/' + process.pid;
  const subscriber = await connect('js-sub-' + process.pid);
  await subscribe(subscriber, topic, qos);
  const publisher = await connect('js-pub-' + process.pid);
  let arrived = null;
  subscriber.on('message', () => arrived && arrived());
  const roundTrip = [], ack = [];
  for (let i = 0; i < count + 200; i++) {
    const start = now();
    await Promise.all([new Promise(r => (arrived = r)), publish(publisher, topic, qos)]);
    if (i >= 200) roundTrip.push(Number(now() - start) / 1e3);
  }
  for (let i = 0; i < count + 200; i++) {
    const start = now();
    await publish(publisher, 'bench/js/ack/' + process.pid, 1);
    if (i >= 200) ack.push(Number(now() - start) / 1e3);
  }
  roundTrip.sort((a, b) => a - b); ack.sort((a, b) => a - b);
  await end(publisher); await end(subscriber);
  return { roundTripP50Us: percentile(roundTrip, 50), roundTripP99Us: percentile(roundTrip, 99), ackP50Us: percentile(ack, 50), ackP99Us: percentile(ack, 99) };
}

(mode === 'throughput' ? throughput() : latency())
  .then(result => { console.log(JSON.stringify(result)); process.exit(0); })
  .catch(error => { console.error(error); process.exit(1); });
""";
}
