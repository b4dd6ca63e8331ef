// The negotiate endpoint of bench/negotiate.sh as the official SDK does it:
// one Node process, @azure/web-pubsub's getClientAccessToken() with the
// same user, roles and groups, answering the same JSON as the module.
// Usage: node bench/node_negotiate.js PORT ENDPOINT KEY HUB ROLE GROUP
// (NODE_PATH must name t/node_modules; listens on 127.0.0.1 only.)

"use strict";

const http = require("http");
const { AzureKeyCredential, WebPubSubServiceClient } =
    require("@azure/web-pubsub");

const [port, endpoint, key, hub, role, group] = process.argv.slice(2);

const client = new WebPubSubServiceClient(endpoint,
    new AzureKeyCredential(key), hub);

const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");

    if (url.pathname !== "/negotiate") {
        res.writeHead(404);
        res.end();
        return;
    }

    try {
        const user = url.searchParams.get("id");
        const t = await client.getClientAccessToken({
            userId: user || undefined,
            roles: [role],
            groups: [group],
        });

        // the module's key order: token, baseUrl, url
        const body = JSON.stringify({
            token: t.token, baseUrl: t.baseUrl, url: t.url,
        });

        // a Content-Length, as nginx sends, rather than chunks
        res.writeHead(200, {
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(body),
            "Cache-Control": "no-store",
        });
        res.end(body);
    } catch (e) {
        res.writeHead(500);
        res.end(String(e && e.message));
    }
});

// as nginx with keepalive_requests, keep wrk's connections open
server.keepAliveTimeout = 60000;
server.listen(Number(port), "127.0.0.1");
