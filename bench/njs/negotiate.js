// The negotiate handler of bench/negotiate.sh written in njs, as one would
// without the module: the same HS256 client access token (claims role,
// webpubsub.group, iat, exp, aud, sub in jsonwebtoken's order) and the same
// JSON {"token","baseUrl","url"}, signed with njs's crypto.createHmac.
//
// nginx.conf:
//     js_import negotiate from njs/negotiate.js;
//     location = /njs {
//         set $wps_endpoint https://contoso.webpubsub.azure.com;
//         set $wps_key      <access key>;
//         set $wps_hub      chat;
//         set $wps_roles    webpubsub.joinLeaveGroup.lobby;   # space-separated
//         set $wps_groups   lobby;                            # space-separated
//         js_content negotiate.token;
//     }
// The user id is the query argument "id", as $arg_id in the module's
// location of the benchmark.

import crypto from 'crypto';

// base64url of {"alg":"HS256","typ":"JWT"}, as jsonwebtoken writes it
const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');

function list(v) {
    return v ? v.split(' ').filter((s) => s.length) : [];
}

function token(r) {
    const v = r.variables;
    const endpoint = v.wps_endpoint.replace(/\/$/, '');
    const path = 'client/hubs/' + v.wps_hub;
    const roles = list(v.wps_roles);
    const groups = list(v.wps_groups);
    const user = r.args.id;
    const iat = Math.floor(Date.now() / 1000);
    const claims = {};

    if (roles.length) {
        claims.role = roles;
    }
    if (groups.length) {
        claims['webpubsub.group'] = groups;
    }
    claims.iat = iat;
    claims.exp = iat + 3600;
    claims.aud = endpoint + '/' + path;
    if (user) {
        claims.sub = user;
    }

    const signed = header + '.'
                   + Buffer.from(JSON.stringify(claims)).toString('base64url');
    const jwt = signed + '.'
                + crypto.createHmac('sha256', v.wps_key).update(signed)
                  .digest('base64url');
    const baseUrl = endpoint.replace(/^http/, 'ws') + '/' + path;

    r.headersOut['Content-Type'] = 'application/json';
    r.headersOut['Cache-Control'] = 'no-store';
    r.return(200, JSON.stringify({
        token: jwt,
        baseUrl: baseUrl,
        url: baseUrl + '?access_token=' + jwt,
    }));
}

export default { token };
