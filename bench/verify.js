// Correctness checks for bench/negotiate.sh and bench/all.sh, run once
// before anything is measured. Tokens are verified with jsonwebtoken (the
// library the SDK signs with), independently of the code under test.
//
//   node bench/verify.js negotiate KEY ENDPOINT HUB USER ROLE GROUP < body
//       the negotiate JSON: keys token, baseUrl, url in that order, url is
//       baseUrl?access_token=token, and the token is HS256 with KEY, header
//       {"alg":"HS256","typ":"JWT"}, claims role, webpubsub.group, iat, exp,
//       aud, sub in that order and with these values, a one-hour lifetime
//   node bench/verify.js service PORT KEY SECONDS
//       a REST service stand-in on 127.0.0.1:PORT for SECONDS: answers 202
//       when the bearer token verifies with KEY for the request's URL, 401
//       otherwise, and prints each request as a JSON line (GET /ready
//       answers 204 and is not printed)
//   node bench/verify.js sdk ENDPOINT KEY
//       one sendToAll("Hello", text/plain) by the SDK, hub "chat"
// (NODE_PATH must name t/node_modules.)

"use strict";

const http = require("http");
const jwt = require("jsonwebtoken");

const [mode, ...args] = process.argv.slice(2);

function fail(msg) {
    console.error(`verify ${mode}: ${msg}`);
    process.exit(1);
}

function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
}

function checkToken(token, key, audience) {
    const [h] = token.split(".");
    const header = Buffer.from(h, "base64url").toString();

    if (header !== '{"alg":"HS256","typ":"JWT"}') {
        throw new Error(`header ${header}`);
    }

    // throws unless the signature, aud and exp are right
    return jwt.verify(token, key, { algorithms: ["HS256"], audience });
}

function negotiate([key, endpoint, hub, user, role, group]) {
    let input = "";

    process.stdin.on("data", (d) => { input += d; });
    process.stdin.on("end", () => {
        let body, claims;

        try {
            body = JSON.parse(input);
        } catch (e) {
            fail(`not JSON: ${input.slice(0, 200)}`);
        }

        const base = endpoint.replace(/\/$/, "");
        const baseUrl = base.replace(/^http/, "ws") + `/client/hubs/${hub}`;
        const aud = `${base}/client/hubs/${hub}`;

        if (!same(Object.keys(body), ["token", "baseUrl", "url"])) {
            fail(`keys ${Object.keys(body)}`);
        }
        if (body.baseUrl !== baseUrl) {
            fail(`baseUrl ${body.baseUrl}`);
        }
        if (body.url !== `${baseUrl}?access_token=${body.token}`) {
            fail(`url ${body.url}`);
        }

        try {
            claims = checkToken(body.token, key, aud);
        } catch (e) {
            fail(`token: ${e.message}`);
        }

        const want = {
            role: [role], "webpubsub.group": [group],
            iat: claims.iat, exp: claims.iat + 3600, aud, sub: user,
        };
        if (!same(claims, want)) {
            fail(`claims ${JSON.stringify(claims)}`);
        }
        if (Math.abs(claims.iat - Date.now() / 1000) > 60) {
            fail(`iat ${claims.iat} is not now`);
        }

        console.log("ok");
    });
}

function service([port, key, seconds]) {
    const server = http.createServer((req, res) => {
        let body = "";

        if (req.url === "/ready") {
            res.writeHead(204);
            res.end();
            return;
        }

        req.on("data", (d) => { body += d; });
        req.on("end", () => {
            const url = `http://127.0.0.1:${port}${req.url}`;
            const auth = req.headers.authorization || "";
            let ok = true;

            try {
                const claims = checkToken(auth.replace(/^Bearer /, ""),
                    key, url);
                if (!same(Object.keys(claims), ["iat", "exp", "aud"])) {
                    throw new Error(`claims ${JSON.stringify(claims)}`);
                }
            } catch (e) {
                ok = false;
                console.error(`verify service: ${req.url}: ${e.message}`);
            }

            console.log(JSON.stringify({
                method: req.method, url: req.url,
                contentType: req.headers["content-type"],
                accept: req.headers.accept, body, ok,
            }));
            res.writeHead(ok ? 202 : 401, { "Content-Length": 0 });
            res.end();
        });
    });

    server.listen(Number(port), "127.0.0.1");
    setTimeout(() => process.exit(0), Number(seconds) * 1000).unref();
    process.on("SIGTERM", () => process.exit(0));
}

async function sdk([endpoint, key]) {
    const { AzureKeyCredential, WebPubSubServiceClient } =
        require("@azure/web-pubsub");
    const client = new WebPubSubServiceClient(endpoint,
        new AzureKeyCredential(key), "chat", {
            retryOptions: { maxRetries: 0 },
            allowInsecureConnection: true,
        });

    try {
        await client.sendToAll("Hello", { contentType: "text/plain" });
    } catch (e) {
        fail(e.message);
    }
    console.log("ok");
}

switch (mode) {
case "negotiate": negotiate(args); break;
case "service": service(args); break;
case "sdk": sdk(args); break;
default: fail("usage: see the top of bench/verify.js");
}
