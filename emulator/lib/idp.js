// What the identity provider stand-in (../identity.js) answers: managed
// identity tokens (IMDS, App Service), the token endpoint's client
// credentials grant (secret, certificate assertion, federated token),
// OpenID discovery and the JWKS, and tokens minted on demand for tests.
// Answers are { status, headers, body, issued } (issued: the header and
// claims of a token given out, for the log).

"use strict";

const crypto = require("node:crypto");
const {
  signJwt, verifyRsa, checkLifetime, newSigningKey, parseJwt,
} = require("./rsa_jwt");

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const FEDERATED_AUDIENCE = "api://AzureADTokenExchange";
const ASSERTION_SKEW = 300;     // seconds of clock skew on client assertions
const MAX_LIFETIME = 86400 * 30;

function json(status, value, headers) {
  return { status, headers: Object.assign({ "Content-Type": "application/json; charset=utf-8" },
                                          headers || {}),
           body: JSON.stringify(value) };
}

// an OAuth error as Entra ID sends it (AADSTS code in the description)
function oauthError(status, error, description, codes) {
  return json(status, {
    error, error_description: description, error_codes: codes || [],
    timestamp: new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"),
    trace_id: crypto.randomUUID(), correlation_id: crypto.randomUUID(),
  });
}

function sha256b64url(bytes) {
  return crypto.createHash("sha256").update(bytes).digest("base64url");
}

class IdentityProvider {
  // cfg: { tenant, origin, system, users, clientId, clientOid, clientSecret,
  //        clientCert (X509Certificate or null), federatedToken,
  //        federatedSubject, identityHeader }
  constructor(cfg) {
    this.cfg = cfg;
    this.keys = [newSigningKey()];       // [0] signs; all are in the JWKS
    this.foreign = newSigningKey();      // never published: forged tokens
    this.settings = { lifetime: 3600, expires_on_form: "string", refresh_in: null,
                      token_version: "auto" };
  }

  get signing() {
    return this.keys[0];
  }

  // keep: the old keys stay in the JWKS (a rollover), else they go
  rotate(keep) {
    const k = newSigningKey();
    this.keys = keep ? [k, ...this.keys].slice(0, 8) : [k];
    return k.kid;
  }

  jwks() {
    return { keys: this.keys.map((k) => k.jwk) };
  }

  issuerV1(tid) {
    return `https://sts.windows.net/${tid || this.cfg.tenant}/`;
  }

  issuerV2(tid) {
    return `${this.cfg.origin}/${tid || this.cfg.tenant}/v2.0`;
  }

  sign(claims, header) {
    const h = Object.assign({ typ: "JWT", alg: "RS256", kid: this.signing.kid,
                              x5t: this.signing.kid }, header || {});
    return signJwt(h, claims, { privateKey: this.signing.privateKey });
  }

  // the access token of a managed identity (v1, as Entra ID issues them)
  managedToken(identity, resource) {
    const now = Math.floor(Date.now() / 1000);
    const tid = this.cfg.tenant;
    const claims = {
      aud: resource, iss: this.issuerV1(), iat: now, nbf: now,
      exp: now + this.settings.lifetime, appid: identity.client_id, appidacr: "2",
      idp: this.issuerV1(), idtyp: "app", oid: identity.object_id, sub: identity.object_id,
      tid, uti: crypto.randomBytes(16).toString("base64url"), ver: "1.0",
    };
    if (identity.resource_id) {
      claims.xms_mirid = identity.resource_id;
    }
    return { token: this.sign(claims), claims, now };
  }

  expiresOn(epoch) {
    switch (this.settings.expires_on_form) {
      case "number":
        return epoch;
      case "iso":
        // as Date.prototype.toISOString writes it: msal-node takes no other form
        return new Date(epoch * 1000).toISOString();
      default:
        return String(epoch);
    }
  }

  // which managed identity a query names (client_id, object_id, or the
  // resource id under resIdName), or the system-assigned one; { identity }
  // or { error }
  pickIdentity(query, resIdName) {
    const asked = [["client_id", "client_id"], ["object_id", "object_id"],
                   [resIdName, "resource_id"]].filter(([q]) => query.has(q));
    if (asked.length > 1) {
      return { error: "only one of client_id, object_id and "
        + `${resIdName} may be given` };
    }
    if (asked.length === 0) {
      return this.cfg.system ? { identity: this.cfg.system }
        : { error: "no system-assigned identity" };
    }
    const [q, field] = asked[0];
    const want = query.get(q)[0];
    const found = this.cfg.users.find((u) => typeof u[field] === "string"
      && u[field].toLowerCase() === want.toLowerCase());
    return found ? { identity: found } : { error: `Identity not found (${q})` };
  }

  // GET /metadata/identity/oauth2/token (IMDS, 2018-02-01)
  imds(headers, query) {
    if ((headers.metadata || "").toLowerCase() !== "true") {
      return json(400, { error: "invalid_request",
                         error_description: "Required metadata header not specified" });
    }
    if (!query.has("api-version")) {
      return json(400, { error: "invalid_request",
                         error_description: "Required query variable 'api-version' is missing" });
    }
    const resource = (query.get("resource") || [""])[0];
    if (!resource) {
      return json(400, { error: "invalid_request",
                         error_description: "Required query variable 'resource' is missing" });
    }
    const picked = this.pickIdentity(query, "msi_res_id");
    if (picked.error) {
      return json(400, { error: "invalid_request", error_description: picked.error });
    }
    const t = this.managedToken(picked.identity, resource);
    const life = String(t.claims.exp - t.now);
    const a = json(200, {
      access_token: t.token, client_id: picked.identity.client_id, expires_in: life,
      expires_on: this.expiresOn(t.claims.exp), ext_expires_in: life,
      not_before: String(t.claims.nbf), resource, token_type: "Bearer",
    });
    a.issued = { claims: t.claims };
    return a;
  }

  // GET /msi/token (App Service, 2019-08-01)
  appService(headers, query) {
    const secret = this.cfg.identityHeader;
    const given = headers["x-identity-header"];
    if (!secret || typeof given !== "string" || !safeEqual(given, secret)) {
      return json(401, { statusCode: 401,
                         message: "Unauthorized: X-IDENTITY-HEADER missing or wrong" });
    }
    const resource = (query.get("resource") || [""])[0];
    if (!query.has("api-version") || !resource) {
      return json(400, { statusCode: 400,
                         message: "api-version and resource are required" });
    }
    const picked = this.pickIdentity(query, "mi_res_id");
    if (picked.error) {
      return json(400, { statusCode: 400, message: picked.error });
    }
    const t = this.managedToken(picked.identity, resource);
    const a = json(200, {
      access_token: t.token, expires_on: this.expiresOn(t.claims.exp), resource,
      token_type: "Bearer", client_id: picked.identity.client_id,
    });
    a.issued = { claims: t.claims };
    return a;
  }

  // A client assertion: a certificate's (x5t#S256 or x5t in the header)
  // or a federated token.  { ok, reason, kind, header, claims }
  checkAssertion(assertion, clientId, tokenEndpoint) {
    const jwt = parseJwt(assertion);
    if (jwt.error) {
      return { ok: false, reason: `client_assertion: ${jwt.error}` };
    }
    const { header, claims } = jwt;
    // a certificate assertion is issued by the client itself; anything
    // else would be a federated token (issued by a cluster, a CI system)
    const cert = claims.iss === clientId;
    const out = { ok: false, kind: cert ? "certificate" : "federated", header, claims };
    const fail = (reason) => Object.assign(out, { reason });

    if (cert) {
      const c = this.cfg.clientCert;
      if (!c) {
        return fail("no certificate is registered (IDP_CLIENT_CERT)");
      }
      if (header["x5t#S256"] === undefined && header.x5t === undefined) {
        return fail("a certificate assertion needs x5t#S256 or x5t");
      }
      if (header["x5t#S256"] !== undefined) {
        if (header["x5t#S256"] !== sha256b64url(c.raw)) {
          return fail("x5t#S256 is not the registered certificate's");
        }
      } else if (header.x5t !== crypto.createHash("sha1").update(c.raw).digest("base64url")) {
        return fail("x5t is not the registered certificate's");
      }
      const sig = verifyRsa(jwt, c.publicKey, ["RS256", "PS256"]);
      if (!sig.ok) {
        return fail(sig.reason);
      }
      if (claims.aud !== tokenEndpoint) {
        return fail(`aud ${JSON.stringify(claims.aud)} is not ${tokenEndpoint}`);
      }
      if (claims.iss !== clientId || claims.sub !== clientId) {
        return fail("iss and sub must be the client id");
      }
    } else if (this.cfg.federatedToken && safeEqual(assertion, this.cfg.federatedToken)) {
      return Object.assign(out, { ok: true, reason: "the federated token of IDP_FEDERATED_TOKEN" });
    } else {
      // a federated token this provider minted (POST /__token, federated)
      const key = this.keys.find((k) => k.kid === header.kid);
      if (!key) {
        return fail("federated token: unknown kid");
      }
      const sig = verifyRsa(jwt, key.publicKey, ["RS256"]);
      if (!sig.ok) {
        return fail(`federated token: ${sig.reason}`);
      }
      if (claims.aud !== FEDERATED_AUDIENCE) {
        return fail(`federated token: aud is not ${FEDERATED_AUDIENCE}`);
      }
      if (this.cfg.federatedSubject && claims.sub !== this.cfg.federatedSubject) {
        return fail("federated token: sub is not IDP_FEDERATED_SUBJECT");
      }
    }
    const life = checkLifetime(claims, ASSERTION_SKEW);
    if (!life.ok) {
      return fail(`client_assertion: ${life.reason}`);
    }
    return Object.assign(out, { ok: true, reason: `${out.kind} assertion valid` });
  }

  // POST /{tenant}/oauth2/v2.0/token.  check: what the log keeps of the
  // credential (its verdict and the assertion's header and claims).
  tokenEndpoint(tenant, form, check) {
    if (tenant !== this.cfg.tenant) {
      return oauthError(400, "invalid_request",
        `AADSTS90002: Tenant '${tenant}' not found.`, [90002]);
    }
    if (form.grant_type !== "client_credentials") {
      return oauthError(400, "unsupported_grant_type",
        "AADSTS70003: The app requested an unsupported grant type "
        + `'${form.grant_type || ""}'.`, [70003]);
    }
    if (!form.client_id) {
      return oauthError(400, "invalid_request",
        "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
        [900144]);
    }
    if (form.client_id !== this.cfg.clientId) {
      return oauthError(400, "unauthorized_client",
        `AADSTS700016: Application with identifier '${form.client_id}' was not found `
        + `in the directory '${tenant}'.`, [700016]);
    }
    const scope = form.scope || "";
    if (!/^\S+\/\.default$/.test(scope)) {
      return oauthError(400, "invalid_scope",
        `AADSTS1002012: The provided value for scope ${scope} is not valid. Client `
        + "credential flows must have a scope value with /.default suffixed to the "
        + "resource identifier (application ID URI).", [1002012]);
    }
    let acr;
    if (form.client_secret !== undefined && form.client_assertion === undefined) {
      const ok = this.cfg.clientSecret && safeEqual(form.client_secret, this.cfg.clientSecret);
      check.verdict = ok ? "client_secret valid" : "bad client_secret";
      if (!ok) {
        return oauthError(401, "invalid_client",
          "AADSTS7000215: Invalid client secret provided.", [7000215]);
      }
      acr = "1";
    } else if (form.client_assertion !== undefined && form.client_secret === undefined) {
      if (form.client_assertion_type !== ASSERTION_TYPE) {
        return oauthError(400, "invalid_request",
          `AADSTS50027: client_assertion_type must be ${ASSERTION_TYPE}.`, [50027]);
      }
      const url = `${this.cfg.origin}/${tenant}/oauth2/v2.0/token`;
      const a = this.checkAssertion(form.client_assertion, form.client_id, url);
      Object.assign(check, { verdict: a.reason, assertion_kind: a.kind || null,
                             assertion_header: a.header || null,
                             assertion_claims: a.claims || null });
      if (!a.ok) {
        return oauthError(401, "invalid_client",
          `AADSTS700027: Client assertion failed signature validation: ${a.reason}`,
          [700027]);
      }
      acr = "2";
    } else {
      return oauthError(401, "invalid_client",
        "AADSTS7000218: The request body must contain exactly one of 'client_assertion' "
        + "or 'client_secret'.", [7000218]);
    }

    const now = Math.floor(Date.now() / 1000);
    const life = this.settings.lifetime;
    const v1 = this.settings.token_version === "1";
    const claims = {
      aud: scope.slice(0, -"/.default".length),
      iss: v1 ? this.issuerV1() : this.issuerV2(), iat: now, nbf: now, exp: now + life,
      idtyp: "app", oid: this.cfg.clientOid, sub: this.cfg.clientOid, tid: tenant,
      uti: crypto.randomBytes(16).toString("base64url"), ver: v1 ? "1.0" : "2.0",
    };
    if (v1) {
      Object.assign(claims, { appid: form.client_id, appidacr: acr });
    } else {
      Object.assign(claims, { azp: form.client_id, azpacr: acr });
    }
    const body = { token_type: "Bearer", expires_in: life, ext_expires_in: life,
                   access_token: this.sign(claims) };
    if (this.settings.refresh_in !== null) {
      body.refresh_in = this.settings.refresh_in;
    }
    const a = json(200, body);
    a.issued = { claims };
    return a;
  }

  openidConfiguration(tenant) {
    const base = `${this.cfg.origin}/${tenant}`;
    return json(200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt",
                                              "client_secret_basic"],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: this.issuerV2(tenant === "common" || tenant === "organizations"
        ? "{tenantid}" : tenant),
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.cfg.origin}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
      tenant_region_scope: "WW",
      cloud_instance_name: new URL(this.cfg.origin).host,
    });
  }

  instanceDiscovery() {
    const host = new URL(this.cfg.origin).host;
    return json(200, {
      tenant_discovery_endpoint:
        `${this.cfg.origin}/${this.cfg.tenant}/v2.0/.well-known/openid-configuration`,
      "api-version": "1.1",
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  }

  // POST /__token: a token as the test asks, forged or not (see
  // ../identity.js).  Returns { token, header, claims }.
  mint(spec) {
    const s = spec || {};
    const now = Math.floor(Date.now() / 1000);
    const tid = s.tid || this.cfg.tenant;
    let claims;
    if (s.federated) {
      claims = { aud: FEDERATED_AUDIENCE, iss: `${this.cfg.origin}/federation`,
                 sub: this.cfg.federatedSubject || "system:serviceaccount:default:workload",
                 iat: now, nbf: now, exp: now + 3600 };
    } else {
      const identity = this.cfg.system || {};
      const oid = s.oid || identity.object_id;
      const v2 = s.version === 2 || s.version === "2";
      claims = {
        aud: s.aud || s.resource || "https://webpubsub.azure.com",
        iss: v2 ? this.issuerV2(tid) : this.issuerV1(tid),
        iat: now, nbf: now, exp: now + 3600, idtyp: "app", oid, sub: oid, tid,
        uti: crypto.randomBytes(16).toString("base64url"), ver: v2 ? "2.0" : "1.0",
      };
      if (v2) {
        Object.assign(claims, { azp: s.azp || identity.client_id, azpacr: "2" });
      } else {
        Object.assign(claims, { appid: s.appid || identity.client_id, appidacr: "2" });
      }
    }
    for (const name of ["iss", "iat", "nbf", "exp", "sub", "appid", "azp"]) {
      if (s[name] !== undefined) {
        claims[name] = s[name];
      }
    }
    if (s.exp_in !== undefined) {
      claims.exp = now + Number(s.exp_in);
    }
    if (s.nbf_in !== undefined) {
      claims.nbf = now + Number(s.nbf_in);
    }
    Object.assign(claims, s.claims || {});
    for (const name of s.omit || []) {
      delete claims[name];
    }
    const alg = s.alg || "RS256";
    const key = s.key === "foreign" ? this.foreign
      : s.key === "previous" ? this.keys[1] || this.signing : this.signing;
    const header = { typ: "JWT", alg };
    if (alg === "RS256" || alg === "PS256") {
      header.kid = key.kid;
      if (!s.federated) {
        header.x5t = key.kid;
      }
    }
    if (s.kid !== undefined) {
      header.kid = s.kid;
    }
    Object.assign(header, s.header || {});
    // HS256 with the public key's PEM as the secret: the classic confusion
    // of an RSA verifier that lets the token pick the algorithm
    const hmacKey = s.hmac_key !== undefined ? s.hmac_key
      : key.publicKey.export({ type: "spki", format: "pem" });
    const token = signJwt(header, claims, { privateKey: key.privateKey, hmacKey });
    return { token, header, claims };
  }
}

function safeEqual(a, b) {
  const x = crypto.createHash("sha256").update(String(a)).digest();
  const y = crypto.createHash("sha256").update(String(b)).digest();
  return crypto.timingSafeEqual(x, y) && String(a) === String(b);
}

module.exports = { IdentityProvider, oauthError, json, ASSERTION_TYPE, FEDERATED_AUDIENCE,
                   MAX_LIFETIME };
