// The chat demo's application: a plain Node app with no Web PubSub key.
// Its event handler sits behind nginx's gateway (webpubsub_event_handler),
// so only genuine, signed events reach it, and it publishes through
// nginx's REST location (webpubsub_rest), which signs the call.
//
//   APP_PORT       where it listens on 127.0.0.1 (8082)
//   APP_ANNOUNCE   nginx's REST location for the lobby
//                  (http://127.0.0.1:8080/internal/announce)
//   APP_LOG        optional JSONL file: one line per event it received

"use strict";

const fs = require("fs");
const http = require("http");
const express = require("express");
const { WebPubSubEventHandler } = require("@azure/web-pubsub-express");

const port = Number(process.env.APP_PORT || 8082);
const announceUrl = process.env.APP_ANNOUNCE
    || "http://127.0.0.1:8080/internal/announce";
const logFile = process.env.APP_LOG;

function record(event, context) {
    const line = {
        event,
        connectionId: context.connectionId,
        userId: context.userId,
        hub: context.hub,
    };
    console.log(`app: ${event} ${context.userId || "-"} ${context.connectionId}`);
    if (logFile) {
        fs.appendFileSync(logFile, JSON.stringify(line) + "\n");
    }
}

// a message to everyone in the lobby, through nginx: no SDK, no key here
function announce(text) {
    const body = JSON.stringify({ system: text });
    const req = http.request(announceUrl, {
        method: "POST",
        headers: {
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(body),
        },
        timeout: 5000,
    }, (res) => {
        res.resume();
        if (res.statusCode !== 202) {
            console.error(`app: announce got ${res.statusCode}`);
        }
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (e) => console.error(`app: announce failed: ${e.message}`));
    req.end(body);
}

const handler = new WebPubSubEventHandler("chat", {
    path: "/eventhandler/",

    handleConnect(req, res) {
        record("connect", req.context);
        if (!req.context.userId) {
            res.fail(401, "a name is needed");
            return;
        }
        res.success();
    },

    onConnected(req) {
        record("connected", req.context);
        announce(`${req.context.userId} joined`);
    },

    onDisconnected(req) {
        record("disconnected", req.context);
        announce(`${req.context.userId} left`);
    },

    handleUserEvent(req, res) {
        record(`user.${req.context.eventName}`, req.context);
        res.success();
    },
});

const app = express();
app.use(handler.getMiddleware());
app.use((req, res) => res.status(404).end());

const server = app.listen(port, "127.0.0.1", () => {
    console.log(`chat app on http://127.0.0.1:${port}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
        server.close();
        server.closeAllConnections();
        process.exit(0);
    });
}
