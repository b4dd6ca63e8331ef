// The official SDK's getClientAccessToken() with a TokenCredential (a
// resource without access keys: the token comes from the service's
// :generateToken), in a closed loop, for bench/entra.sh: CONCURRENCY calls
// in flight for SECONDS, then the calls per second.  The credential hands
// out one cached token, as a credential does between refreshes.
// Usage: NODE_EXTRA_CA_CERTS=cert.pem node bench/sdk_negotiate_entra.js \
//            HTTPS_ENDPOINT SECONDS CONCURRENCY
// (NODE_PATH must name t/node_modules.)

"use strict";

const https = require("https");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");

const [endpoint, seconds, concurrency] = process.argv.slice(2);

const agent = new https.Agent({ keepAlive: true, maxSockets: 64 });

const credential = {
    async getToken() {
        return { token: "bench-entra-token", expiresOnTimestamp: Date.now() + 3600e3 };
    },
};

const client = new WebPubSubServiceClient(endpoint, credential, "chat", {
    retryOptions: { maxRetries: 0 },
});

client.client.pipeline.addPolicy({
    name: "benchAgent",
    sendRequest(request, next) {
        request.agent = agent;
        return next(request);
    },
});

async function worker(deadline, counts) {
    while (Date.now() < deadline) {
        const t = await client.getClientAccessToken({
            userId: "alice", roles: ["webpubsub.joinLeaveGroup.lobby"],
            groups: ["lobby"],
        });
        if (!t.url) {
            throw new Error("no url in the SDK's answer");
        }
        counts.done++;
    }
}

async function main() {
    const counts = { done: 0 };
    const start = Date.now();
    const deadline = start + Number(seconds) * 1000;
    const workers = [];

    for (let i = 0; i < Number(concurrency); i++) {
        workers.push(worker(deadline, counts));
    }

    await Promise.all(workers);

    const elapsed = (Date.now() - start) / 1000;
    console.log((counts.done / elapsed).toFixed(2));
    agent.destroy();
}

main().catch((e) => { console.error(e.message); process.exit(1); });
