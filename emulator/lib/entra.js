// The emulator with local auth disabled (WPS_AUTH=entra, see ../service.js):
// REST callers present Microsoft Entra ID access tokens, checked against
// the identity provider's JWKS; webhooks carry a token of the service's
// managed identity instead of ce-signature.  The identity provider is
// emulator/identity.js (or any with the same endpoints).

"use strict";

const http = require("node:http");
const https = require("node:https");
const { parseJwt, verifyRsa, checkLifetime, keyOfJwk } = require("./rsa_jwt");

const CLOCK_SKEW = 300;          // seconds, as for the service's own tokens
const FETCH_TIMEOUT = 10000;     // ms
const MAX_DOCUMENT = 1024 * 1024;
const REFRESH_MARGIN = 300;      // seconds before expiry a webhook token is renewed

// GET url with headers: the parsed JSON of a 200, or a thrown error
function getJson(url, headers) {
  return new Promise((resolve, reject) => {
    let target;
    try {
      target = new URL(url);
    } catch (e) {
      reject(new Error(`not a URL: ${url}`));
      return;
    }
    const lib = target.protocol === "https:" ? https : http;
    const req = lib.get(target, { headers: headers || {}, timeout: FETCH_TIMEOUT }, (res) => {
      const chunks = [];
      let size = 0;
      res.on("data", (c) => {
        size += c.length;
        if (size > MAX_DOCUMENT) {
          req.destroy(new Error(`${url}: larger than ${MAX_DOCUMENT} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => {
        if (res.statusCode !== 200) {
          reject(new Error(`${url}: status ${res.statusCode}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch (e) {
          reject(new Error(`${url}: not JSON`));
        }
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer in ${FETCH_TIMEOUT} ms`)));
    req.on("error", reject);
  });
}

class EntraAuth {
  // jwksUri; tenant: the tid tokens must have; idpOrigin: for the v2
  // issuer; audience; oids: allowed object ids (empty: any); log
  constructor({ jwksUri, tenant, idpOrigin, audience, oids, log }) {
    Object.assign(this, { jwksUri, tenant, audience, oids, log });
    this.issuers = [`https://sts.windows.net/${tenant}/`, `${idpOrigin}/${tenant}/v2.0`,
                    `https://login.microsoftonline.com/${tenant}/v2.0`];
    this.keys = new Map();   // kid -> public key
    this.fetching = null;
  }

  // the JWKS again; one fetch at a time, callers share it
  refresh() {
    if (!this.fetching) {
      this.fetching = getJson(this.jwksUri).then((doc) => {
        const keys = new Map();
        for (const jwk of Array.isArray(doc.keys) ? doc.keys : []) {
          const key = keyOfJwk(jwk);
          if (key && typeof jwk.kid === "string") {
            keys.set(jwk.kid, key);
          }
        }
        this.keys = keys;
        this.log("entra.jwks", { url: this.jwksUri, kids: [...keys.keys()] });
      }, (e) => {
        this.log("entra.jwks", { url: this.jwksUri, error: e.message });
      }).finally(() => {
        this.fetching = null;
      });
    }
    return this.fetching;
  }

  // Before check(): the JWKS is fetched when the token's kid is unknown.
  async prepare(token) {
    if (!token) {
      return;
    }
    const jwt = parseJwt(token);
    if (jwt.error || typeof jwt.header.kid !== "string" || this.keys.has(jwt.header.kid)) {
      return;
    }
    await this.refresh();
  }

  // { ok, reason, header, claims, entra: true, status (401 or 403) }
  check(token) {
    const out = { ok: false, entra: true, status: 401 };
    const jwt = parseJwt(token);
    if (jwt.error) {
      return Object.assign(out, { reason: jwt.error });
    }
    const { header, claims } = jwt;
    Object.assign(out, { header, claims });
    if (header.alg !== "RS256") {
      return Object.assign(out, { reason: header.alg === "HS256"
        ? "an access key token: local auth is disabled"
        : `alg is ${JSON.stringify(header.alg)}, not RS256` });
    }
    const key = this.keys.get(header.kid);
    if (!key) {
      return Object.assign(out, { reason: `no key ${JSON.stringify(header.kid)} in the JWKS` });
    }
    const sig = verifyRsa(jwt, key, ["RS256"]);
    if (!sig.ok) {
      return Object.assign(out, { reason: sig.reason });
    }
    const life = checkLifetime(claims, CLOCK_SKEW);
    if (!life.ok) {
      return Object.assign(out, { reason: life.reason });
    }
    if (claims.aud !== this.audience) {
      return Object.assign(out, { reason: `aud ${JSON.stringify(claims.aud)} is not ${
        this.audience}` });
    }
    if (claims.tid !== this.tenant || !this.issuers.includes(claims.iss)) {
      return Object.assign(out, { reason: `iss ${JSON.stringify(claims.iss)} or tid ${
        JSON.stringify(claims.tid)} is not of tenant ${this.tenant}` });
    }
    if (this.oids.length > 0 && !this.oids.includes(claims.oid)) {
      return Object.assign(out, { status: 403, reason: `oid ${JSON.stringify(claims.oid)} has no `
        + "data-plane role" });
    }
    return Object.assign(out, { ok: true, status: 200, reason: "entra token valid" });
  }
}

// The service's managed identity: tokens from IMDS for the event handler.
class ManagedIdentityToken {
  // imdsUrl: http(s)://host/metadata/identity/oauth2/token; resource;
  // clientId: a user-assigned identity, or empty
  constructor({ imdsUrl, resource, clientId, log }) {
    Object.assign(this, { imdsUrl, resource, clientId, log });
    this.token = null;
    this.renewAt = 0;
    this.fetching = null;
  }

  async get() {
    if (this.token && Date.now() / 1000 < this.renewAt) {
      return this.token;
    }
    if (!this.fetching) {
      const u = new URL(this.imdsUrl);
      u.searchParams.set("api-version", "2018-02-01");
      u.searchParams.set("resource", this.resource);
      if (this.clientId) {
        u.searchParams.set("client_id", this.clientId);
      }
      this.fetching = getJson(u.toString(), { Metadata: "true" }).then((doc) => {
        if (typeof doc.access_token !== "string") {
          throw new Error("the IMDS answer has no access_token");
        }
        const exp = Number(doc.expires_on);
        const now = Date.now() / 1000;
        this.token = doc.access_token;
        this.renewAt = Number.isFinite(exp) ? exp - REFRESH_MARGIN : now + 60;
        this.log("entra.webhook_token", { resource: this.resource, expires_on: doc.expires_on });
        return this.token;
      }).finally(() => {
        this.fetching = null;
      });
    }
    return this.fetching;
  }
}

module.exports = { EntraAuth, ManagedIdentityToken, getJson };
