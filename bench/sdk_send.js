// The official SDK's sendToAll() in a closed loop, for bench/rest.sh:
// CONCURRENCY calls in flight for SECONDS, then one line "RPS CALLS TICKS":
// the calls per second, the calls completed, and the CPU time this process
// spent in the loop (utime + stime of /proc/self/stat, in clock ticks), as
// bench/common.sh's bench_run prints for a server.
// Usage: node bench/sdk_send.js ENDPOINT KEY SECONDS CONCURRENCY
// (NODE_PATH must name t/node_modules.)

"use strict";

const fs = require("fs");
const http = require("http");
const { AzureKeyCredential, WebPubSubServiceClient } =
    require("@azure/web-pubsub");

const [endpoint, key, seconds, concurrency] = process.argv.slice(2);

// keep-alive, as nginx keeps its upstream connections
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const client = new WebPubSubServiceClient(endpoint,
    new AzureKeyCredential(key), "chat", {
        retryOptions: { maxRetries: 0 },
        // the stand-in is plain http on loopback
        allowInsecureConnection: true,
    });

// core-rest-pipeline's Node client takes the agent from each request
client.client.pipeline.addPolicy({
    name: "benchAgent",
    sendRequest(request, next) {
        request.agent = agent;
        return next(request);
    },
});

async function worker(deadline, counts) {
    while (Date.now() < deadline) {
        await client.sendToAll("Hello", { contentType: "text/plain" });
        counts.done++;
    }
}

// utime + stime: fields 14 and 15, counted after the command name's ")"
function ticks() {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");

    return Number(f[11]) + Number(f[12]);
}

async function main() {
    const counts = { done: 0 };
    const t0 = ticks();
    const start = Date.now();
    const deadline = start + Number(seconds) * 1000;
    const workers = [];

    for (let i = 0; i < Number(concurrency); i++) {
        workers.push(worker(deadline, counts));
    }

    await Promise.all(workers);

    const elapsed = (Date.now() - start) / 1000;
    const t = ticks() - t0;

    console.log((counts.done / elapsed).toFixed(2), counts.done, t);
    agent.destroy();
}

main().catch((e) => { console.error(e.message); process.exit(1); });
