
/*
 * Unit tests of the protocol core, outside nginx.  Expected values are
 * vectors from docs/protocol.md (produced by the JS SDK), RFC 4648, or
 * checked independently (jansson parses every JSON the core writes).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_webpubsub_core.h"
#include "ngx_webpubsub_rest.h"
#include "check.h"


#define S(lit)  { (const unsigned char *) lit, sizeof(lit) - 1 }


static int
eq(const unsigned char *p, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(p, lit, len) == 0;
}


static void
test_base64url(void)
{
    static const char  *in[] = { "", "f", "fo", "foo", "foob", "fooba",
                                 "foobar" };
    static const char  *out[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg",
                                  "Zm9vYmE", "Zm9vYmFy" };
    unsigned char       buf[16], bin[3] = { 0xfb, 0xff, 0xfe };
    size_t              i, n;

    for (i = 0; i < 7; i++) {
        n = ngx_webpubsub_base64url_encode(buf, (const unsigned char *) in[i],
                                           strlen(in[i]));
        check(eq(buf, n, out[i]), "base64url RFC 4648 vector");
        check(n == ngx_webpubsub_base64url_length(strlen(in[i])),
              "base64url length");
    }

    n = ngx_webpubsub_base64url_encode(buf, bin, 3);
    check(eq(buf, n, "-__-"), "base64url uses - and _");
}


static void
test_hmac(void)
{
    ngx_webpubsub_str_t  key = S("abc"), key2 = S("def");
    unsigned char        mac[32];
    char                 hex[65];
    size_t               i;

    check(ngx_webpubsub_hmac_sha256(&key, (const unsigned char *) "conn1", 5,
                                    mac) == 0, "hmac ok");
    for (i = 0; i < 32; i++) {
        sprintf(hex + 2 * i, "%02x", mac[i]);
    }
    check(strcmp(hex, "1dfafa3c3f4b8f75ebe141d1510faf618d27c0a46b40ad694"
                      "81a46462422ef64") == 0, "ce-signature vector, key abc");

    ngx_webpubsub_hmac_sha256(&key2, (const unsigned char *) "conn1", 5, mac);
    for (i = 0; i < 32; i++) {
        sprintf(hex + 2 * i, "%02x", mac[i]);
    }
    check(strcmp(hex, "3faa58ef07ac3df35ecee298ec3d4fa4fea5496eff20e45af"
                      "61f500994ef73c8") == 0, "ce-signature vector, key def");
}


static void
test_client_token(void)
{
    unsigned char           payload[512], token[1024], *p;
    size_t                  n, tlen;
    ngx_webpubsub_str_t     key = S("abc");
    ngx_webpubsub_str_t     roles[] = { S("webpubsub.joinLeaveGroup.room1") };
    ngx_webpubsub_str_t     groups[] = { S("room1") };
    ngx_webpubsub_hmac_t   *hkey;
    ngx_webpubsub_claims_t  c;

    memset(&c, 0, sizeof(c));
    c.aud.data = (const unsigned char *)
                 "http://localhost:8080/client/hubs/chat";
    c.aud.len = strlen((const char *) c.aud.data);
    c.sub.data = (const unsigned char *) "user1";
    c.sub.len = 5;
    c.roles = roles;
    c.nroles = 1;
    c.groups = groups;
    c.ngroups = 1;
    c.iat = 1700000000;
    c.exp = 1700003600;

    n = ngx_webpubsub_client_claims_length(&c);
    p = ngx_webpubsub_client_claims(payload, &c);
    check((size_t) (p - payload) == n, "claims length is exact");
    check(eq(payload, n,
             "{\"role\":[\"webpubsub.joinLeaveGroup.room1\"],"
             "\"webpubsub.group\":[\"room1\"],\"iat\":1700000000,"
             "\"exp\":1700003600,"
             "\"aud\":\"http://localhost:8080/client/hubs/chat\","
             "\"sub\":\"user1\"}"), "claims in jsonwebtoken's order");

    hkey = ngx_webpubsub_hmac_new(&key);
    check(hkey != NULL, "prepared key");
    check(ngx_webpubsub_jwt_sign(token, &tlen, payload, n, hkey) == 0,
          "sign ok");
    check(tlen == ngx_webpubsub_jwt_length(n), "jwt length is exact");
    check(eq(token, tlen,
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjpbIndlYnB1YnN1Yi"
             "5qb2luTGVhdmVHcm91cC5yb29tMSJdLCJ3ZWJwdWJzdWIuZ3JvdXAiOlsicm9vb"
             "TEiXSwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsImF1ZCI6Imh0"
             "dHA6Ly9sb2NhbGhvc3Q6ODA4MC9jbGllbnQvaHVicy9jaGF0Iiwic3ViIjoidXN"
             "lcjEifQ.jrGRD6vRoA0pVLXu2wLTs8kcvCepom6KoafVSxg4odY"),
          "docs/protocol.md 2.1 token vector");

    /* anonymous, no roles, no groups: only iat, exp, aud */
    c.sub.len = 0;
    c.nroles = 0;
    c.ngroups = 0;
    n = ngx_webpubsub_client_claims_length(&c);
    p = ngx_webpubsub_client_claims(payload, &c);
    check(eq(payload, p - payload,
             "{\"iat\":1700000000,\"exp\":1700003600,"
             "\"aud\":\"http://localhost:8080/client/hubs/chat\"}")
          && (size_t) (p - payload) == n, "claims without sub, role, group");

    ngx_webpubsub_hmac_free(hkey);
}


static void
test_rest_token(void)
{
    static const char  payload[] =
        "{\"iat\":1700000000,\"exp\":1700003600,\"aud\":\"http://localhost:"
        "8080/api/hubs/chat/:send?api-version=2024-12-01\"}";
    static const char  payload_c[] =
        "{\"iat\":1700000000,\"exp\":1700003600,\"aud\":\"http://localhost:"
        "8080/api/hubs/chat/connections/conn1?api-version=2024-12-01"
        "&reason=bye\"}";
    unsigned char         token[512];
    size_t                tlen;
    ngx_webpubsub_str_t   key = S("abc");
    ngx_webpubsub_hmac_t *hkey;

    hkey = ngx_webpubsub_hmac_new(&key);
    ngx_webpubsub_jwt_sign(token, &tlen, (const unsigned char *) payload,
                           sizeof(payload) - 1, hkey);
    check(eq(token, tlen,
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsIm"
             "V4cCI6MTcwMDAwMzYwMCwiYXVkIjoiaHR0cDovL2xvY2FsaG9zdDo4MDgwL2Fwa"
             "S9odWJzL2NoYXQvOnNlbmQ_YXBpLXZlcnNpb249MjAyNC0xMi0wMSJ9.NEDe3og"
             "meXPd9MzJ71hLfdtA-Z9VstCwc0ssoF_Pdtc"),
          "docs/protocol.md 3.3(a) REST token vector");

    ngx_webpubsub_jwt_sign(token, &tlen, (const unsigned char *) payload_c,
                           sizeof(payload_c) - 1, hkey);
    check(eq(token, tlen,
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsIm"
             "V4cCI6MTcwMDAwMzYwMCwiYXVkIjoiaHR0cDovL2xvY2FsaG9zdDo4MDgwL2Fwa"
             "S9odWJzL2NoYXQvY29ubmVjdGlvbnMvY29ubjE_YXBpLXZlcnNpb249MjAyNC0x"
             "Mi0wMSZyZWFzb249YnllIn0.ytxPQdveG2i8HPFitxLvmJrQ8soPcogkBERtle_"
             "30lY"),
          "docs/protocol.md 3.3(c) REST token vector");

    ngx_webpubsub_hmac_free(hkey);
}


/* a prepared key gives OpenSSL's one-shot HMAC, call after call */
/* the prepared key's MAC of m against one-shot HMAC() with the key */
static int
hmac_agrees(ngx_webpubsub_hmac_t *h, const ngx_webpubsub_str_t *key,
    const unsigned char *m, size_t mlen)
{
    unsigned char  a[32], b[32];

    ngx_webpubsub_hmac_sha256(key, m, mlen, a);

    return ngx_webpubsub_hmac(h, m, mlen, b) == 0 && memcmp(a, b, 32) == 0;
}


static void
test_prepared_hmac(void)
{
    int                    i, same;
    size_t                 j, klen, mlen;
    unsigned char          k[100], m[300];
    ngx_webpubsub_str_t    key;
    ngx_webpubsub_hmac_t  *h;

    srand(777);
    same = 1;

    for (i = 0; i < 200; i++) {
        klen = 1 + rand() % sizeof(k);

        for (j = 0; j < klen; j++) {
            k[j] = (unsigned char) rand();
        }

        key.data = k;
        key.len = klen;

        h = ngx_webpubsub_hmac_new(&key);
        if (h == NULL) {
            same = 0;
            break;
        }

        for (j = 0; j < 5; j++) {
            mlen = rand() % sizeof(m);
            memset(m, (int) j, mlen);

            same = same && hmac_agrees(h, &key, m, mlen);
        }

        ngx_webpubsub_hmac_free(h);
    }

    check(same, "prepared HMAC equals one-shot HMAC");

    /*
     * every length of the last block: the padding fits after 0-55 bytes
     * and needs a second block after 56-63
     */

    key.data = (unsigned char *) "sweep-key";
    key.len = sizeof("sweep-key") - 1;
    same = 0;

    h = ngx_webpubsub_hmac_new(&key);

    if (h != NULL) {
        same = 1;

        for (mlen = 0; mlen <= sizeof(m); mlen++) {
            for (j = 0; j < mlen; j++) {
                m[j] = (unsigned char) (j * 7 + mlen);
            }

            same = same && hmac_agrees(h, &key, m, mlen);
        }

        ngx_webpubsub_hmac_free(h);
    }

    check(same, "prepared HMAC equals one-shot HMAC at every length 0-300");
}


/* random inputs: every escape parses back, no parser reads out of bounds */
static void
test_random(void)
{
    int                        i, bad_json, bad_len;
    size_t                     n, j, elen, an;
    json_t                    *js;
    unsigned char              in[300], out[300 * 6 + 2], *p;
    const char                *alphabet = "=;Endpoint AccessKey Port http://"
                                          "[]:/?#@1234567890abcXYZ\t";
    json_error_t               err;
    ngx_webpubsub_conn_str_t   cs;
    ngx_webpubsub_endpoint_t   ep;

    srand(12345);
    an = strlen(alphabet);
    bad_json = 0;
    bad_len = 0;

    for (i = 0; i < 20000; i++) {
        n = rand() % sizeof(in);

        for (j = 0; j < n; j++) {
            in[j] = (i & 1) ? (unsigned char) (rand() & 0xff)
                            : (unsigned char) alphabet[rand() % an];
        }

        elen = ngx_webpubsub_json_escape_length(in, n);
        out[0] = '"';
        p = ngx_webpubsub_json_escape(out + 1, in, n);
        *p++ = '"';

        if ((size_t) (p - out) != elen + 2) {
            bad_len++;
        }

        js = json_loadb((const char *) out, p - out,
                        JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (js == NULL || !json_is_string(js)) {
            bad_json++;
        }

        json_decref(js);

        if (ngx_webpubsub_parse_connection_string(in, n, &cs) == NULL) {
            ngx_webpubsub_parse_endpoint(cs.endpoint.data, cs.endpoint.len,
                                         &cs.port, &ep);
        }

        ngx_webpubsub_parse_endpoint(in, n, NULL, &ep);
        ngx_webpubsub_check_hub(in, n);
    }

    check(bad_len == 0, "random: escape length always exact");
    check(bad_json == 0, "random: escaped bytes always parse as JSON");
}


static void
test_json_escape(void)
{
    static const struct {
        const char  *in;
        size_t       len;
        const char  *out;
    } v[] = {
        { "plain", 5, "plain" },
        { "q\"b\\s", 5, "q\\\"b\\\\s" },
        { "\b\f\n\r\t", 5, "\\b\\f\\n\\r\\t" },
        { "\x01\x1f\x7f", 3, "\\u0001\\u001f\x7f" },
        { "\0", 1, "\\u0000" },
        { "/", 1, "/" },
        { "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
          "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" },
        { "\xff", 1, "\xef\xbf\xbd" },
        { "a\xc3", 2, "a\xef\xbf\xbd" },
        { "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },
        { "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
        { "\xe2\x82" "A", 3, "\xef\xbf\xbd" "A" },
        { "\xf0\x9f\x98", 3, "\xef\xbf\xbd" },
        { "\xf0\x9f\x98" "\xf0\x9f\x98\x80", 7,
          "\xef\xbf\xbd\xf0\x9f\x98\x80" },
        { "\xf4\x90\x80\x80", 4,
          "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
    };
    unsigned char  buf[64], *p;
    size_t         i, n;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        n = ngx_webpubsub_json_escape_length((const unsigned char *) v[i].in,
                                             v[i].len);
        p = ngx_webpubsub_json_escape(buf, (const unsigned char *) v[i].in,
                                      v[i].len);
        check((size_t) (p - buf) == n, "escape length is exact");
        check(eq(buf, p - buf, v[i].out), "escape as JSON.stringify");
    }
}


/* every byte value in every position: output parses back with jansson */
static void
test_json_roundtrip(void)
{
    unsigned char        in[256], out[256 * 6 + 2], *p;
    json_t              *j;
    json_error_t         err;
    size_t               i, n;
    int                  ok;

    for (i = 0; i < 256; i++) {
        in[i] = (unsigned char) i;
    }

    out[0] = '"';
    p = ngx_webpubsub_json_escape(out + 1, in, 256);
    *p++ = '"';
    n = p - out;

    j = json_loadb((const char *) out, n, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                   &err);
    check(j != NULL && json_is_string(j), "all bytes give a valid JSON string");

    if (j != NULL) {
        /* ASCII comes back exactly; each non-UTF-8 byte as U+FFFD */
        ok = json_string_length(j) == 128 + 128 * 3
             && memcmp(json_string_value(j), in, 128) == 0;
        check(ok, "ASCII survives the round trip");
        json_decref(j);
    }
}


static void
test_connection_string(void)
{
    static const struct {
        const char  *cs;
        const char  *endpoint;   /* normalised, or NULL for an error */
        const char  *key;
        const char  *err;
    } v[] = {
        { "Endpoint=http://localhost;Port=8080;AccessKey=abc;Version=1.0;",
          "http://localhost:8080/", "abc", NULL },
        { "Endpoint=https://x.com;Port=443;AccessKey=abc;Version=1.0;",
          "https://x.com/", "abc", NULL },
        { "Endpoint=x.webpubsub.azure.com;AccessKey=k==;Version=1.0;",
          "https://x.webpubsub.azure.com/", "k==", NULL },
        { "endpoint=HTTPS://Ex.Webpubsub.Azure.COM:443/Base;accesskey=K/+=",
          "https://ex.webpubsub.azure.com/Base/", "K/+=", NULL },
        { "Endpoint=http://127.0.0.1:80/;AccessKey=a",
          "http://127.0.0.1/", "a", NULL },
        { "Endpoint=http://h:81;AccessKey=a;Port=8443",
          "http://h:8443/", "a", NULL },
        { "Endpoint=http://[::1]:8080;AccessKey=a;",
          "http://[::1]:8080/", "a", NULL },
        { " Endpoint = http://h ; AccessKey = a b ; junk ;;",
          "http://h/", "a b", NULL },
        { "AccessKey=abc;Version=1.0;", NULL, NULL, "has no Endpoint" },
        { "Endpoint=;AccessKey=abc", NULL, NULL, "has no Endpoint" },
        { "Endpoint=http://h;Version=1.0;", NULL, NULL, "has no AccessKey" },
        { "Endpoint=http://h;AccessKey=", NULL, NULL, "has no AccessKey" },
        { "Endpoint=http://h;AccessKey=a;accesskey=b", NULL, NULL,
          "has more than one AccessKey" },
        { "Endpoint=http://h;ENDPOINT=http://i;AccessKey=a", NULL, NULL,
          "has more than one Endpoint" },
        { "Endpoint=http://h;AccessKey=a;Port=0", NULL, NULL,
          "has a Port that is not a number from 1 to 65535" },
        { "Endpoint=http://h;AccessKey=a;Port=65536", NULL, NULL,
          "has a Port that is not a number from 1 to 65535" },
        { "Endpoint=http://h;AccessKey=a;Port=-1", NULL, NULL,
          "has a Port that is not a number from 1 to 65535" },
        { "Endpoint=http://h;AccessKey=a;Port=", NULL, NULL,
          "has a Port that is not a number from 1 to 65535" },
        { "Endpoint=ftp://h;AccessKey=a", NULL, NULL,
          "has an endpoint that is not http or https" },
        { "Endpoint=ws://h;AccessKey=a", NULL, NULL,
          "has an endpoint that is not http or https" },
        { "Endpoint=http://;AccessKey=a", NULL, NULL,
          "has an endpoint without a host" },
        { "Endpoint=http://u@h;AccessKey=a", NULL, NULL,
          "has an endpoint with user info" },
        { "Endpoint=http://h/?x=1;AccessKey=a", NULL, NULL,
          "has an endpoint with a query or fragment" },
        { "Endpoint=http://h/a b;AccessKey=a", NULL, NULL,
          "has an endpoint with an invalid path" },
        { "Endpoint=http://h:99999;AccessKey=a", NULL, NULL,
          "has an endpoint with a port that is not 1 to 65535" },
        { "Endpoint=http://h/a/../b;AccessKey=a", NULL, NULL,
          "has an endpoint with a \".\" or \"..\" path segment" },
        { "Endpoint=http://h/./b;AccessKey=a", NULL, NULL,
          "has an endpoint with a \".\" or \"..\" path segment" },
        { "Endpoint=http://h/a/%2E%2e;AccessKey=a", NULL, NULL,
          "has an endpoint with a \".\" or \"..\" path segment" },
        { "Endpoint=http://h/a/.%2e/;AccessKey=a", NULL, NULL,
          "has an endpoint with a \".\" or \"..\" path segment" },
        { "Endpoint=http://h/v1.2/a%2eb/...;AccessKey=a",
          "http://h/v1.2/a%2eb/.../", "a", NULL },
        { "Endpoint=http://h\"x;AccessKey=a", NULL, NULL,
          "has an endpoint with an invalid host" },
    };
    size_t                    i;
    const char               *err;
    ngx_webpubsub_conn_str_t  cs;
    ngx_webpubsub_endpoint_t  ep;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        err = ngx_webpubsub_parse_connection_string(
                  (const unsigned char *) v[i].cs, strlen(v[i].cs), &cs);

        if (err == NULL) {
            err = ngx_webpubsub_parse_endpoint(cs.endpoint.data,
                                               cs.endpoint.len, &cs.port, &ep);
        }

        if (v[i].err) {
            check(err != NULL && strcmp(err, v[i].err) == 0, v[i].cs);
            if (err == NULL || strcmp(err, v[i].err) != 0) {
                printf("  got: %s\n", err ? err : "(no error)");
            }
            continue;
        }

        check(err == NULL, v[i].cs);
        if (err != NULL) {
            printf("  got: %s\n", err);
            continue;
        }

        check(eq(ep.buf, ep.len, v[i].endpoint), v[i].endpoint);
        check(eq(cs.access_key.data, cs.access_key.len, v[i].key), v[i].key);
    }
}


static void
test_endpoint_parts(void)
{
    unsigned char             buf[NGX_WEBPUBSUB_ENDPOINT_MAX];
    size_t                    n;
    ngx_webpubsub_endpoint_t  ep;

    ngx_webpubsub_parse_endpoint((const unsigned char *) "https://H.com:8443/p",
                                 20, NULL, &ep);
    check(eq(ep.buf + ep.host_start, ep.host_len, "h.com"), "host part");
    check(eq(ep.buf + ep.path_start, ep.len - ep.path_start, "/p/"),
          "path part");
    n = ngx_webpubsub_client_base_url(&ep, buf);
    check(eq(buf, n, "wss://h.com:8443/p/"), "https gives wss");

    ngx_webpubsub_parse_endpoint((const unsigned char *) "http://h", 8, NULL,
                                 &ep);
    n = ngx_webpubsub_client_base_url(&ep, buf);
    check(eq(buf, n, "ws://h/"), "http gives ws");
}


static void
test_hub(void)
{
    static const char  *good[] = { "chat", "Chat", "a", "h_1`,.[]",
        "A234567890123456789012345678901234567890123456789012345678901234"
        "5678901234567890123456789012345678901234567890123456789012345678" };
    static const char  *bad[] = { "", "1chat", "_chat", "ch at", "ch/at",
        "ch-at", "chat\xc3\xa9",
        "A234567890123456789012345678901234567890123456789012345678901234"
        "56789012345678901234567890123456789012345678901234567890123456789" };
    size_t              i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        check(ngx_webpubsub_check_hub((const unsigned char *) good[i],
                                      strlen(good[i])) == NULL, good[i]);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        check(ngx_webpubsub_check_hub((const unsigned char *) bad[i],
                                      strlen(bad[i])) != NULL, bad[i]);
    }
}


static void
test_event_type(void)
{
    static const char  *good[] = { "azure.webpubsub.sys.connect",
        "azure.webpubsub.sys.connected", "azure.webpubsub.sys.disconnected",
        "azure.webpubsub.user.message", "azure.webpubsub.user.a.b-c_1",
        "azure.webpubsub.user.a b", "azure.webpubsub.user.\xc3\xa9" };
    static const char  *bad[] = { "", "azure.webpubsub.sys.connecting",
        "azure.webpubsub.sys.", "azure.webpubsub.user.", "azure.webpubsub.x",
        "AZURE.WEBPUBSUB.SYS.CONNECT", "azure.webpubsub.user.a\tb",
        "azure.webpubsub.user.a\x7f", "com.example.event" };
    size_t              i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        check(ngx_webpubsub_check_event_type((const unsigned char *) good[i],
                                             strlen(good[i])) == NULL,
              good[i]);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        check(ngx_webpubsub_check_event_type((const unsigned char *) bad[i],
                                             strlen(bad[i])) != NULL, bad[i]);
    }
}


#define SIG_ABC  "1dfafa3c3f4b8f75ebe141d1510faf61"                       \
                 "8d27c0a46b40ad69481a46462422ef64"
#define SIG_ABC_UPPER  "1DFAFA3C3F4B8F75EBE141D1510FAF61"                 \
                       "8D27C0A46B40AD69481A46462422EF64"
#define SIG_ABC_PREFIX  "1dfafa3c3f4b8f75ebe141d1510faf61"                \
                        "8d27c0a46b40ad69481a46462422ef6"
#define SIG_DEF  "3faa58ef07ac3df35ecee298ec3d4fa4"                       \
                 "fea5496eff20e45af61f500994ef73c8"
#define SIG_ZERO "00000000000000000000000000000000"                       \
                 "00000000000000000000000000000000"


static void
test_signature(void)
{
    static const struct {
        const char  *value;
        int          match;
    } v[] = {
        /* docs/protocol.md 4.3: key abc, connection conn1 */
        { "sha256=" SIG_ABC, 1 },
        { "SHA256=" SIG_ABC_UPPER, 1 },
        { "sha256=" SIG_DEF ",sha256=" SIG_ABC, 1 },
        { " ,sha256=" SIG_ZERO " , sha256=" SIG_ABC " ", 1 },
        { "sha256=" SIG_ABC_PREFIX "5", 0 },
        { "sha256=" SIG_ABC_PREFIX, 0 },
        { "sha256=" SIG_ABC "4", 0 },
        { SIG_ABC, 0 },
        { "sha1=" SIG_ABC, 0 },
        { "sha256=" SIG_ABC_PREFIX "z", 0 },
        { "sha256=", 0 },
        { "", 0 },
        { ",,, ", 0 },
        /* where an item ends: before the 72nd byte only at a separator */
        { "sha256=" SIG_ABC "\t", 1 },
        { "sha256=" SIG_ABC "x", 0 },
        { "sha256=" SIG_ABC "x,sha256=" SIG_DEF, 0 },
        { "xsha256=" SIG_ABC, 0 },
        { "sha256=1dfafa3c3f4b8f75ebe141d1510faf61,sha256=" SIG_ABC, 1 },
        { "sha256=1dfafa3c3f4b8f75ebe141d1510faf61 sha256=" SIG_ABC, 1 },
        { "sha256=1dfafa3c3f4b8f75ebe141d1510faf61 sha256=" SIG_ABC "0", 0 },
        { "sha256=" SIG_ABC_PREFIX ",sha256=" SIG_ABC, 1 },
        /* either case, digit by digit; a digit is never a letter's case */
        { "sha256=1DfAfA3c3F4b8F75eBe141D1510fAf61"
          "8d27C0a46B40aD69481A46462422Ef64", 1 },
        { "sha256=\x11" "dfafa3c3f4b8f75ebe141d1510faf61"
          "8d27c0a46b40ad69481a46462422ef64", 0 },
        { "sha256=1$fafa3c3f4b8f75ebe141d1510faf61"
          "8d27c0a46b40ad69481a46462422ef64", 0 },
        /* 71 bytes up to a separator, holding one: passed over whole */
        { "sha256=1dfafa3c3f4b8f75ebe141d1510faf61,"
          "8d27c0a46b40ad69481a46462422ef6 sha256=" SIG_ABC, 1 },
    };
    size_t               i;
    unsigned char        mac[32];
    ngx_webpubsub_str_t  key = S("abc");

    ngx_webpubsub_hmac_sha256(&key, (const unsigned char *) "conn1", 5, mac);

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        check(ngx_webpubsub_signature_match((const unsigned char *) v[i].value,
                                            strlen(v[i].value), mac)
              == v[i].match, v[i].value);
    }
}


/*
 * Every byte value in every digit's place: only the digit itself, or its
 * upper case where it is a letter, may keep the match.
 */

static void
test_signature_bytes(void)
{
    int                  c, ok, want;
    size_t               i, wrong;
    unsigned char        mac[32], item[71];
    ngx_webpubsub_str_t  key = S("abc");

    ngx_webpubsub_hmac_sha256(&key, (const unsigned char *) "conn1", 5, mac);

    memcpy(item, "sha256=" SIG_ABC, sizeof(item));
    wrong = 0;

    for (i = 7; i < sizeof(item); i++) {
        for (c = 0; c < 256; c++) {
            item[i] = (unsigned char) c;
            want = (c == SIG_ABC[i - 7]
                    || (SIG_ABC[i - 7] >= 'a' && c == SIG_ABC[i - 7] - 32));
            ok = ngx_webpubsub_signature_match(item, sizeof(item), mac);
            wrong += (ok != want);
        }

        item[i] = (unsigned char) SIG_ABC[i - 7];
    }

    check(wrong == 0, "signature: every byte in every digit's place");
}


static void
test_origin(void)
{
    ngx_webpubsub_str_t  allowed[] = { S("a.webpubsub.azure.com"),
                                       S("b.example:8443") };
    ngx_webpubsub_str_t  any[] = { S("*") };

#define origin(v, a)                                                        \
    ngx_webpubsub_origin_match((const unsigned char *) v, strlen(v), a,     \
                               sizeof(a) / sizeof(a[0]))

    check(origin("a.webpubsub.azure.com", allowed) == 0, "origin exact");
    check(origin("A.WebPubSub.Azure.COM", allowed) == 0, "origin case");
    check(origin("x.com, a.webpubsub.azure.com", allowed) == 0,
          "origin in a list");
    check(origin("x.com,b.example:8443", allowed) == 1, "origin with port");
    check(origin("x.com y.com", allowed) == -1, "no origin matches");
    check(origin("a.webpubsub.azure.co", allowed) == -1, "origin prefix");
    check(origin("a.webpubsub.azure.com.evil", allowed) == -1,
          "origin suffix");
    check(origin("", allowed) == -1, "empty origin");
    check(origin(" , ", any) == -1, "* needs an origin");
    check(origin("anything", any) == 0, "* allows any origin");

#undef origin
}


/*
 * The URL a REST call goes to, as endpoint + path + "?" + query, built by
 * the core from an operation name and its parameters.
 */
static size_t
rest_url(unsigned char *dst, const char *endpoint, const char *op_name,
    const char *hub, const ngx_webpubsub_rest_args_t *args)
{
    unsigned char                  *p;
    ngx_webpubsub_str_t             h;
    ngx_webpubsub_endpoint_t        ep;
    ngx_webpubsub_rest_tpl_t        tpl;
    const ngx_webpubsub_rest_op_t  *op;

    memset(&ep, 0, sizeof(ep));
    ngx_webpubsub_parse_endpoint((const unsigned char *) endpoint,
                                 strlen(endpoint), NULL, &ep);

    op = ngx_webpubsub_rest_op((const unsigned char *) op_name,
                               strlen(op_name));
    if (op == NULL) {
        return 0;
    }

    h.data = (const unsigned char *) hub;
    h.len = strlen(hub);

    if (ngx_webpubsub_rest_path_compile(op, NULL, &tpl) != NULL) {
        return 0;
    }

    memcpy(dst, ep.buf, ep.len);
    p = ngx_webpubsub_rest_path(dst + ep.len, &tpl, &h, args);
    *p++ = '?';
    p = ngx_webpubsub_rest_query(p, op, args);

    return p - dst;
}


/* docs/protocol.md 3.3: the URLs the JS SDK calls, and their tokens */
static void
test_rest_requests(void)
{
    size_t                      len, plen, tlen;
    unsigned char               url[1024], payload[1024], token[2048];
    ngx_webpubsub_str_t         key = S("abc");
    ngx_webpubsub_hmac_t       *hkey;
    ngx_webpubsub_claims_t      c;
    ngx_webpubsub_rest_args_t   a;

    static const ngx_webpubsub_str_t  excluded[] = { S("c1"), S("c2") };
    static const ngx_webpubsub_str_t  room[] = { S("room 1") };
    static const ngx_webpubsub_str_t  filter[] = { S("userId ne 'bob'") };
    static const ngx_webpubsub_str_t  conn[] = { S("conn1") };
    static const ngx_webpubsub_str_t  bye[] = { S("bye") };

    memset(&a, 0, sizeof(a));
    len = rest_url(url, "http://localhost:8080", "send_to_all", "chat", &a);
    check(eq(url, len, "http://localhost:8080/api/hubs/chat/:send"
                       "?api-version=2024-12-01"), "3.3(a) sendToAll URL");

    memset(&c, 0, sizeof(c));
    c.aud.data = url;
    c.aud.len = len;
    c.iat = 1700000000;
    c.exp = 1700003600;

    hkey = ngx_webpubsub_hmac_new(&key);

    plen = ngx_webpubsub_client_claims(payload, &c) - payload;
    ngx_webpubsub_jwt_sign(token, &tlen, payload, plen, hkey);
    check(eq(token, tlen,
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsIm"
             "V4cCI6MTcwMDAwMzYwMCwiYXVkIjoiaHR0cDovL2xvY2FsaG9zdDo4MDgwL2Fwa"
             "S9odWJzL2NoYXQvOnNlbmQ_YXBpLXZlcnNpb249MjAyNC0xMi0wMSJ9.NEDe3og"
             "meXPd9MzJ71hLfdtA-Z9VstCwc0ssoF_Pdtc"),
          "3.3(a) token from the built URL");

    memset(&a, 0, sizeof(a));
    a.v[NGX_WEBPUBSUB_REST_GROUP] = room;
    a.n[NGX_WEBPUBSUB_REST_GROUP] = 1;
    a.v[NGX_WEBPUBSUB_REST_EXCLUDED] = excluded;
    a.n[NGX_WEBPUBSUB_REST_EXCLUDED] = 2;
    a.v[NGX_WEBPUBSUB_REST_FILTER] = filter;
    a.n[NGX_WEBPUBSUB_REST_FILTER] = 1;
    len = rest_url(url, "http://localhost:8080", "send_to_group", "chat", &a);
    check(eq(url, len, "http://localhost:8080/api/hubs/chat/groups/room%201/"
                       ":send?api-version=2024-12-01&excluded=c1&excluded=c2"
                       "&filter=userId%20ne%20%27bob%27"),
          "3.3(b) group sendToAll URL");

    c.aud.len = len;
    plen = ngx_webpubsub_client_claims(payload, &c) - payload;
    ngx_webpubsub_jwt_sign(token, &tlen, payload, plen, hkey);
    check(eq(token, tlen,
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsIm"
             "V4cCI6MTcwMDAwMzYwMCwiYXVkIjoiaHR0cDovL2xvY2FsaG9zdDo4MDgwL2Fwa"
             "S9odWJzL2NoYXQvZ3JvdXBzL3Jvb20lMjAxLzpzZW5kP2FwaS12ZXJzaW9uPTIw"
             "MjQtMTItMDEmZXhjbHVkZWQ9YzEmZXhjbHVkZWQ9YzImZmlsdGVyPXVzZXJJZCU"
             "yMG5lJTIwJTI3Ym9iJTI3In0.K-KvoCAxvpS6XAmufzdNss0hH97sSsnrfq8_nK"
             "TJ2Vw"),
          "3.3(b) token from the built URL");

    memset(&a, 0, sizeof(a));
    a.v[NGX_WEBPUBSUB_REST_CONNECTION] = conn;
    a.n[NGX_WEBPUBSUB_REST_CONNECTION] = 1;
    len = rest_url(url, "http://localhost:8080", "connection_exists", "chat",
                   &a);
    check(eq(url, len, "http://localhost:8080/api/hubs/chat/connections/conn1"
                       "?api-version=2024-12-01"), "3.3(c) HEAD URL");

    a.v[NGX_WEBPUBSUB_REST_REASON] = bye;
    a.n[NGX_WEBPUBSUB_REST_REASON] = 1;
    len = rest_url(url, "http://localhost:8080", "close_connection", "chat",
                   &a);
    check(eq(url, len, "http://localhost:8080/api/hubs/chat/connections/conn1"
                       "?api-version=2024-12-01&reason=bye"),
          "3.3(c) DELETE URL");

    c.aud.len = len;
    plen = ngx_webpubsub_client_claims(payload, &c) - payload;
    ngx_webpubsub_jwt_sign(token, &tlen, payload, plen, hkey);
    check(eq(token, tlen,
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsIm"
             "V4cCI6MTcwMDAwMzYwMCwiYXVkIjoiaHR0cDovL2xvY2FsaG9zdDo4MDgwL2Fwa"
             "S9odWJzL2NoYXQvY29ubmVjdGlvbnMvY29ubjE_YXBpLXZlcnNpb249MjAyNC0x"
             "Mi0wMSZyZWFzb249YnllIn0.ytxPQdveG2i8HPFitxLvmJrQ8soPcogkBERtle_"
             "30lY"),
          "3.3(c) DELETE token from the built URL");

    memset(&a, 0, sizeof(a));
    len = rest_url(url, "http://localhost:8080", "generate_client_token",
                   "chat", &a);
    check(eq(url, len, "http://localhost:8080/api/hubs/chat/:generateToken"
                       "?api-version=2024-12-01&minutesToExpire=60"),
          "generateToken sends the SDK's default minutesToExpire");

    ngx_webpubsub_hmac_free(hkey);
}


/* encodeURIComponent, written here from its definition (ECMA-262) */
static void
test_uri_component(void)
{
    int                   c, ok;
    size_t                len;
    unsigned char         in[1], out[4];
    static const char     keep[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                   "qrstuvwxyz0123456789-_.!~*'()";
    static const char     hex[] = "0123456789ABCDEF";

    ok = 1;

    for (c = 0; c < 256; c++) {
        in[0] = (unsigned char) c;
        len = ngx_webpubsub_uri_component(out, in, 1) - out;

        if (c != 0 && strchr(keep, c) != NULL) {
            ok &= (len == 1 && out[0] == c);

        } else {
            ok &= (len == 3 && out[0] == '%' && out[1] == hex[c >> 4]
                   && out[2] == hex[c & 15]);
        }

        ok &= (ngx_webpubsub_uri_component_length(in, 1) == len);
    }

    check(ok, "encodeURIComponent of every byte");

    {
        unsigned char        buf[64];
        static const char    s[] = "user 1/\xc3\xa9";

        len = ngx_webpubsub_uri_component(buf, (const unsigned char *) s,
                                          sizeof(s) - 1) - buf;
        check(eq(buf, len, "user%201%2F%C3%A9"), "docs/protocol.md 3.3(d)");
    }
}


/*
 * The path of a call as the template walk that compiled paths replaced
 * made it, written again here: each {name} in op->path, hub or parameter,
 * looked up and encoded as it comes.
 */
static size_t
walk_path(unsigned char *dst, const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_str_t *hub, const ngx_webpubsub_rest_args_t *args)
{
    int                         param;
    const char                 *p, *end;
    unsigned char              *d;
    const ngx_webpubsub_str_t  *v;

    d = dst;

    for (p = op->path; *p; p++) {
        if (*p != '{') {
            *d++ = (unsigned char) *p;
            continue;
        }

        end = strchr(p, '}');

        if (end - p == 4 && memcmp(p, "{hub}", 5) == 0) {
            v = hub;

        } else {
            param = ngx_webpubsub_rest_param((const unsigned char *) p + 1,
                                             end - p - 1);
            v = &args->v[param][0];
        }

        d = ngx_webpubsub_uri_component(d, v->data, v->len);
        p = end;
    }

    return d - dst;
}


/*
 * A compiled path, with the hub per call or bound once, gives the same
 * bytes as written out here, and as walk_path() for every operation.
 */
static size_t
tpl_path(unsigned char *dst, const char *op_name, const char *hub,
    int bind, const ngx_webpubsub_rest_args_t *args)
{
    size_t                          len;
    ngx_webpubsub_str_t             h;
    ngx_webpubsub_rest_tpl_t        tpl;
    const ngx_webpubsub_rest_op_t  *op;

    op = ngx_webpubsub_rest_op((const unsigned char *) op_name,
                               strlen(op_name));
    h.data = (const unsigned char *) hub;
    h.len = strlen(hub);

    if (op == NULL
        || ngx_webpubsub_rest_path_compile(op, bind ? &h : NULL, &tpl) != NULL)
    {
        return 0;
    }

    len = ngx_webpubsub_rest_path(dst, &tpl, &h, args) - dst;

    return (len == ngx_webpubsub_rest_path_length(&tpl, &h, args)) ? len : 0;
}


static void
test_rest_path(void)
{
    int                              bind, ok;
    size_t                           i, j, k, n, len, wlen;
    unsigned char                    pct[NGX_WEBPUBSUB_VALUE_MAX];
    unsigned char                    brackets[NGX_WEBPUBSUB_HUB_MAX];
    ngx_webpubsub_str_t              h, v[NGX_WEBPUBSUB_REST_NPARAMS];
    ngx_webpubsub_rest_tpl_t         tpl;
    ngx_webpubsub_rest_args_t        a;
    ngx_webpubsub_rest_op_t          bad;
    const ngx_webpubsub_rest_op_t   *op;

    /* three values of 4096 bytes, each encoded to three times that */
    static unsigned char              out[9 * NGX_WEBPUBSUB_VALUE_MAX + 512];
    static unsigned char              walked[sizeof(out)];

    static const ngx_webpubsub_str_t  awkward[] = {
        S("a"), S("room 1"), S("a/b?c#d%e&f=g+h"), S("x'y(z)!*~-_."),
        S("\xc3\xa9"), S("\xf0\x9f\x98\x80"), S("..."), S("{hub}"),
        S("{user}/}{"), S("\x01\x7f")
    };
    static const ngx_webpubsub_str_t  hubs[] = {
        S("chat"), S("a`b,c[d]e.f"), S("H_1")
    };

#define set(p, lit)                                                         \
    do {                                                                    \
        v[NGX_WEBPUBSUB_REST_##p].data = (const unsigned char *) lit;       \
        v[NGX_WEBPUBSUB_REST_##p].len = sizeof(lit) - 1;                    \
        a.v[NGX_WEBPUBSUB_REST_##p] = &v[NGX_WEBPUBSUB_REST_##p];           \
        a.n[NGX_WEBPUBSUB_REST_##p] = 1;                                    \
    } while (0)

    /* every operation of the table compiles, with a hub or without */

    ok = 1;
    n = 0;

    for (i = 0; (op = ngx_webpubsub_rest_op_at(i)) != NULL; i++) {
        h.data = (const unsigned char *) "chat";
        h.len = 4;
        ok &= (ngx_webpubsub_rest_path_compile(op, NULL, &tpl) == NULL);
        ok &= (tpl.hub == (strstr(op->path, "{hub}") != NULL));
        ok &= (ngx_webpubsub_rest_path_compile(op, &h, &tpl) == NULL);
        ok &= (tpl.hub == 0);
        n++;
    }

    check(ok && n == NGX_WEBPUBSUB_REST_NOPS, "every operation compiles");

    /* paths written out, with the hub per call and bound */

    for (bind = 0; bind < 2; bind++) {
        memset(&a, 0, sizeof(a));
        len = tpl_path(out, "send_to_all", "chat", bind, &a);
        check(eq(out, len, "api/hubs/chat/:send"), "send_to_all path");

        len = tpl_path(out, "health", "chat", bind, &a);
        check(eq(out, len, "api/health"), "health has no hub");

        set(GROUP, "a b/c?#%");
        set(CONNECTION, "x'y(z)");
        len = tpl_path(out, "add_connection_to_group", "chat", bind, &a);
        check(eq(out, len, "api/hubs/chat/groups/a%20b%2Fc%3F%23%25/"
                           "connections/x'y(z)"),
              "add_connection_to_group path, encodeURIComponent");

        set(PERMISSION, "sendToGroup");
        set(CONNECTION, "c/1");
        len = tpl_path(out, "grant_permission", "a`b,c[d]e.f", bind, &a);
        check(eq(out, len, "api/hubs/a%60b%2Cc%5Bd%5De.f/permissions/"
                           "sendToGroup/connections/c%2F1"),
              "three values, the hub's characters encoded");

        set(USER, "\xc3\xa9 {group}");
        len = tpl_path(out, "close_user_connections", "H_1", bind, &a);
        check(eq(out, len, "api/hubs/H_1/users/%C3%A9%20%7Bgroup%7D/"
                           ":closeConnections"),
              "UTF-8 and braces in a value are not a template");

        set(USER, "u");
        set(GROUP, "g");
        len = tpl_path(out, "remove_user_from_group", "chat", bind, &a);
        check(eq(out, len, "api/hubs/chat/users/u/groups/g"),
              "the first value of a repeated parameter");
    }

    /* the compiled path and the walk agree on every operation */

    memset(pct, '%', sizeof(pct));
    ok = 1;

    for (i = 0; (op = ngx_webpubsub_rest_op_at(i)) != NULL; i++) {
        for (j = 0; j < sizeof(awkward) / sizeof(awkward[0]) + 1; j++) {
            memset(&a, 0, sizeof(a));

            for (k = 0; k < NGX_WEBPUBSUB_REST_NPARAMS; k++) {
                if (j == sizeof(awkward) / sizeof(awkward[0])) {
                    /* the longest value, every byte encoded */
                    v[k].data = pct;
                    v[k].len = sizeof(pct);

                } else {
                    v[k] = awkward[(j + k) % (sizeof(awkward)
                                              / sizeof(awkward[0]))];
                }

                a.v[k] = &v[k];
                a.n[k] = 1;
            }

            h = hubs[j % (sizeof(hubs) / sizeof(hubs[0]))];
            wlen = walk_path(walked, op, &h, &a);

            for (bind = 0; bind < 2; bind++) {
                ok &= (ngx_webpubsub_rest_path_compile(op, bind ? &h : NULL,
                                                       &tpl) == NULL);
                len = ngx_webpubsub_rest_path(out, &tpl, &h, &a) - out;
                ok &= (len == wlen && memcmp(out, walked, len) == 0);
                ok &= (ngx_webpubsub_rest_path_length(&tpl, &h, &a) == len);
            }
        }
    }

    check(ok, "compiled paths are the template walk's, byte for byte");

    /* the longest hub, every character encoded, in the longest path */

    memset(brackets, ']', sizeof(brackets));
    h.data = brackets;
    h.len = sizeof(brackets);
    op = ngx_webpubsub_rest_op((const unsigned char *) "revoke_permission",
                               17);
    check(op != NULL && ngx_webpubsub_rest_path_compile(op, &h, &tpl) == NULL
          && tpl.text_len == sizeof("api/hubs//permissions//connections/") - 1
                             + 3 * NGX_WEBPUBSUB_HUB_MAX,
          "a bound hub of 128 encoded characters fits");

    /* a template the compiler refuses: a bug of the table */

    memset(&bad, 0, sizeof(bad));
    bad.required = 1u << NGX_WEBPUBSUB_REST_USER
                   | 1u << NGX_WEBPUBSUB_REST_GROUP
                   | 1u << NGX_WEBPUBSUB_REST_CONNECTION;

#define refused(tmpl)                                                       \
    (bad.path = tmpl,                                                       \
     ngx_webpubsub_rest_path_compile(&bad, NULL, &tpl) != NULL)

    check(!refused("api/hubs/{hub}/users/{user}/groups/{group}/x")
          && tpl.seg[3].value == NGX_WEBPUBSUB_REST_SEG_END
          && tpl.seg[3].len == 2,
          "three values and the end fit");
    check(refused("api/{hub}/{user}/{group}/{connection}"), "four values");
    check(refused("api/hubs/{hub"), "an unclosed brace");
    check(refused("api/{nobody}"), "an unknown name");
    check(refused("api/{ttl}"), "a parameter that may be absent");
    check(refused("api/{}"), "an empty name");

#undef refused
#undef set
}


static void
test_rest_values(void)
{
    int                              param;
    size_t                           i, len;
    unsigned char                    group[2100], body[256];
    ngx_webpubsub_rest_args_t        a;
    const ngx_webpubsub_rest_op_t   *op;

    static const ngx_webpubsub_str_t  groups[] = { S("a\"b"), S("\xc3\xa9") };
    static const ngx_webpubsub_str_t  filter[] = { S("'g' in groups") };

#define value(p, lit)                                                       \
    ngx_webpubsub_rest_check_value(NGX_WEBPUBSUB_REST_##p,                  \
                                   (const unsigned char *) lit,             \
                                   sizeof(lit) - 1)

    check(value(GROUP, "room 1") == NULL, "a group with a space");
    check(value(GROUP, " \t ") != NULL, "a group of white space only");
    check(value(GROUP, "\xe3\x80\x80") != NULL, "U+3000 is white space");
    check(value(GROUP, "a\nb") != NULL, "a group with a line feed");
    check(value(GROUP, "a\xe2\x80\xa8") != NULL, "a group with U+2028");
    check(value(GROUP, "\xff") != NULL, "a group that is not UTF-8");

    memset(group, 'g', sizeof(group));
    check(ngx_webpubsub_rest_check_value(NGX_WEBPUBSUB_REST_GROUP, group,
                                         1024) == NULL, "1024 characters");
    check(ngx_webpubsub_rest_check_value(NGX_WEBPUBSUB_REST_GROUP, group,
                                         1025) != NULL, "1025 characters");

    /* 512 U+10000 characters are 1024 UTF-16 units, 513 are 1026 */
    for (i = 0; i < 513; i++) {
        memcpy(group + 4 * i, "\xf0\x90\x80\x80", 4);
    }

    check(ngx_webpubsub_rest_check_value(NGX_WEBPUBSUB_REST_GROUP, group,
                                         2048) == NULL, "1024 UTF-16 units");
    check(ngx_webpubsub_rest_check_value(NGX_WEBPUBSUB_REST_GROUP, group,
                                         2052) != NULL, "1026 UTF-16 units");

    check(value(TTL, "0") == NULL && value(TTL, "300") == NULL, "ttl bounds");
    check(value(TTL, "301") != NULL && value(TTL, "-1") != NULL
          && value(TTL, "1.5") != NULL && value(TTL, "") != NULL
          && value(TTL, "99999999999999999999") != NULL, "bad ttls");
    check(value(TTL, "0000000000000000000000300") == NULL
          && value(TTL, "00") == NULL, "leading zeros");
    check(value(MAX_PAGE_SIZE, "200") == NULL
          && value(MAX_PAGE_SIZE, "201") != NULL
          && value(MAX_PAGE_SIZE, "0") != NULL, "max_page_size bounds");
    check(value(TOP, "2147483647") == NULL && value(TOP, "2147483648") != NULL,
          "top bounds");
    check(value(PERMISSION, "sendToGroup") == NULL
          && value(PERMISSION, "joinLeaveGroup") == NULL
          && value(PERMISSION, "sendtogroup") != NULL, "permissions");
    check(value(PROTOCOL, "mqtt") == NULL && value(PROTOCOL, "MQTT") != NULL,
          "protocols");
    check(value(USER, "\xc3\x28") != NULL, "a user id that is not UTF-8");
    check(value(USER, "..") != NULL && value(CONNECTION, ".") != NULL
          && value(GROUP, "..") != NULL && value(USER, "...") == NULL,
          "dot segments are not ids");

#undef value

    op = ngx_webpubsub_rest_op((const unsigned char *) "send_to_user", 12);
    memset(&a, 0, sizeof(a));
    check(ngx_webpubsub_rest_check(op, &a, &param) != NULL
          && param == NGX_WEBPUBSUB_REST_USER, "send_to_user needs user");

    check(ngx_webpubsub_rest_op((const unsigned char *) "sendToAll", 9)
          == NULL, "SDK camel case is not an operation name");

    check(ngx_webpubsub_rest_op_at(NGX_WEBPUBSUB_REST_NOPS - 1) != NULL
          && ngx_webpubsub_rest_op_at(NGX_WEBPUBSUB_REST_NOPS) == NULL,
          "NGX_WEBPUBSUB_REST_NOPS is the number of operations");

    check(ngx_webpubsub_rest_op_index(op) == 1
          && ngx_webpubsub_rest_op_at(1) == op,
          "send_to_user is operation 1, both ways");

    op = ngx_webpubsub_rest_op((const unsigned char *)
                               "add_connections_to_groups", 25);
    a.v[NGX_WEBPUBSUB_REST_GROUP] = groups;
    a.n[NGX_WEBPUBSUB_REST_GROUP] = 2;
    a.v[NGX_WEBPUBSUB_REST_FILTER] = filter;
    a.n[NGX_WEBPUBSUB_REST_FILTER] = 1;
    len = ngx_webpubsub_rest_body(body, op, &a) - body;
    check(eq(body, len, "{\"groups\":[\"a\\\"b\",\"\xc3\xa9\"],"
                        "\"filter\":\"'g' in groups\"}"), "addToGroups body");
    check(len == ngx_webpubsub_rest_body_length(op, &a),
          "addToGroups body length");

    a.n[NGX_WEBPUBSUB_REST_FILTER] = 0;
    len = ngx_webpubsub_rest_body(body, op, &a) - body;
    check(eq(body, len, "{\"groups\":[\"a\\\"b\",\"\xc3\xa9\"]}"),
          "addToGroups body without a filter");
}


static void
test_next_link_and_form(void)
{
    size_t                     len;
    unsigned char              dst[NGX_WEBPUBSUB_ENDPOINT_MAX + 256];
    const char                *err;
    ngx_webpubsub_endpoint_t   ep;

#define link(l)                                                             \
    ngx_webpubsub_rest_next_link(&ep, (const unsigned char *) l,            \
                                 sizeof(l) - 1, dst, &len)

    memset(&ep, 0, sizeof(ep));
    ngx_webpubsub_parse_endpoint((const unsigned char *) "https://h.example/b",
                                 19, NULL, &ep);

    err = link("https://H.example/api/x?continuationToken=1");
    check(err == NULL && eq(dst, len,
                            "https://H.example/api/x?continuationToken=1"),
          "an absolute nextLink on the endpoint's origin");
    err = link("/api/x?c=1");
    check(err == NULL && eq(dst, len, "https://h.example/b/api/x?c=1"),
          "a relative nextLink joins the endpoint");
    check(link("https://evil.example/api/x") != NULL, "another host");
    check(link("http://h.example/api/x") != NULL, "another scheme");
    check(link("https://h.example:444/api/x") != NULL, "another port");
    check(link("//evil.example/api") != NULL, "a scheme-relative link");
    check(link("/api/x y") != NULL, "a space in a link");

#undef link

    len = ngx_webpubsub_form_decode(dst, (const unsigned char *)
                                    "a+b%2Bc%zz%4", 12);
    check(eq(dst, len, "a b+c%zz%4"), "form decoding");
}


/* the endpoint's length bound, at the byte, and a normalised endpoint
 * parses again to itself (a fuzzer found one that did not) */
static void
test_endpoint_bound(void)
{
    size_t                     n;
    unsigned char              url[NGX_WEBPUBSUB_ENDPOINT_MAX + 16];
    ngx_webpubsub_endpoint_t   ep, again;

    /* "https://h/" + path + "/" is exactly NGX_WEBPUBSUB_ENDPOINT_MAX */
    n = NGX_WEBPUBSUB_ENDPOINT_MAX - 1;
    memcpy(url, "https://h/", 10);
    memset(url + 10, 'a', n - 10);

    memset(&ep, 0, sizeof(ep));
    check(ngx_webpubsub_parse_endpoint(url, n, NULL, &ep) == NULL
          && ep.len == NGX_WEBPUBSUB_ENDPOINT_MAX,
          "an endpoint of exactly the maximum length");

    memset(&again, 0, sizeof(again));
    check(ngx_webpubsub_parse_endpoint(ep.buf, ep.len, NULL, &again) == NULL
          && again.len == ep.len && memcmp(again.buf, ep.buf, ep.len) == 0,
          "which parses again to itself");

    url[n] = 'a';
    check(ngx_webpubsub_parse_endpoint(url, n + 1, NULL, &ep) != NULL,
          "one byte more is too long");

    /* without a scheme, "https://" is added: the bound is on the result */
    memcpy(url, "h/", 2);
    memset(url + 2, 'a', n - 10);
    check(ngx_webpubsub_parse_endpoint(url, n - 8, NULL, &ep) == NULL
          && ep.len == NGX_WEBPUBSUB_ENDPOINT_MAX,
          "the bound counts the scheme that is added");
}


/* the core's own bounds, each at the byte (or item) and one past it */
static void
test_core_bounds(void)
{
    int                         param;
    size_t                      i, n, len;
    unsigned char               mac[NGX_WEBPUBSUB_SHA256_LEN];
    unsigned char              *buf, *dst;
    ngx_webpubsub_str_t         key, vals[NGX_WEBPUBSUB_REST_VALUES_MAX + 1];
    ngx_webpubsub_endpoint_t    ep;
    ngx_webpubsub_conn_str_t    cs;
    ngx_webpubsub_rest_args_t   a;
    const ngx_webpubsub_rest_op_t  *op;

    buf = malloc(16384);
    dst = malloc(16384);

    /* a connection string: 6400 bytes at most */
    n = NGX_WEBPUBSUB_ENDPOINT_MAX + NGX_WEBPUBSUB_KEY_MAX + 256;
    memset(buf, ' ', n + 1);
    memcpy(buf, "Endpoint=http://h;AccessKey=k;", 30);
    check(ngx_webpubsub_parse_connection_string(buf, n, &cs) == NULL,
          "a connection string of 6400 bytes");
    check(ngx_webpubsub_parse_connection_string(buf, n + 1, &cs) != NULL,
          "a connection string of 6401 bytes");

    /* its AccessKey: 4096 bytes */
    memcpy(buf, "Endpoint=http://h;AccessKey=", 28);
    memset(buf + 28, 'k', NGX_WEBPUBSUB_KEY_MAX + 1);
    check(ngx_webpubsub_parse_connection_string(buf, 28 + 4096, &cs) == NULL
          && cs.access_key.len == 4096, "an AccessKey of 4096 bytes");
    check(ngx_webpubsub_parse_connection_string(buf, 28 + 4097, &cs) != NULL,
          "an AccessKey of 4097 bytes");

    /* a key for HMAC: 4096 bytes */
    key.data = buf + 28;
    key.len = NGX_WEBPUBSUB_KEY_MAX;
    check(ngx_webpubsub_hmac_sha256(&key, buf, 1, mac) == 0,
          "an HMAC key of 4096 bytes");
    key.len++;
    check(ngx_webpubsub_hmac_sha256(&key, buf, 1, mac) != 0,
          "an HMAC key of 4097 bytes");

    /* ce-type: 4096 bytes */
    memcpy(buf, "azure.webpubsub.user.", 21);
    memset(buf + 21, 'n', NGX_WEBPUBSUB_ATTR_MAX);
    check(ngx_webpubsub_check_event_type(buf, NGX_WEBPUBSUB_ATTR_MAX) == NULL,
          "a ce-type of 4096 bytes");
    check(ngx_webpubsub_check_event_type(buf, NGX_WEBPUBSUB_ATTR_MAX + 1)
          != NULL, "a ce-type of 4097 bytes");

    /* 16 signature candidates are read: the right one 16th, then 17th */
    memset(mac, 0xab, sizeof(mac));
    n = 0;
    for (i = 0; i < 16; i++) {
        memcpy(buf + n, "sha256=", 7);
        n += 7;
        memset(buf + n, i == 15 ? 'a' : '0', 64);
        if (i == 15) {
            for (len = 0; len < 64; len += 2) {
                buf[n + len] = 'a';
                buf[n + len + 1] = 'b';
            }
        }
        n += 64;
        buf[n++] = ',';
    }
    check(ngx_webpubsub_signature_match(buf, n - 1, mac),
          "the 16th signature candidate is compared");
    memmove(buf + 72, buf, n);
    memcpy(buf, "sha256=", 7);
    memset(buf + 7, '0', 64);
    buf[71] = ',';
    check(!ngx_webpubsub_signature_match(buf, n + 71, mac),
          "the 17th is not");

    /* 16 origins are read */
    {
        ngx_webpubsub_str_t  allowed = S("z.example");

        n = 0;
        for (i = 0; i < 15; i++) {
            memcpy(buf + n, "a.example, ", 11);
            n += 11;
        }
        memcpy(buf + n, "z.example", 9);
        check(ngx_webpubsub_origin_match(buf, n + 9, &allowed, 1) == 0,
              "the 16th origin is compared");
        memmove(buf + 11, buf, n + 9);
        memcpy(buf, "a.example, ", 11);
        check(ngx_webpubsub_origin_match(buf, n + 20, &allowed, 1) < 0,
              "the 17th is not");
    }

    /* a nextLink: 8192 bytes */
    memset(&ep, 0, sizeof(ep));
    ngx_webpubsub_parse_endpoint((const unsigned char *) "https://h", 9, NULL,
                                 &ep);
    memset(buf, 'p', NGX_WEBPUBSUB_NEXT_LINK_MAX + 1);
    buf[0] = '/';
    check(ngx_webpubsub_rest_next_link(&ep, buf, NGX_WEBPUBSUB_NEXT_LINK_MAX,
                                       dst, &len) == NULL,
          "a nextLink of 8192 bytes");
    check(ngx_webpubsub_rest_next_link(&ep, buf,
                                       NGX_WEBPUBSUB_NEXT_LINK_MAX + 1,
                                       dst, &len) != NULL,
          "a nextLink of 8193 bytes");

    /* 100 values of one parameter */
    for (i = 0; i <= NGX_WEBPUBSUB_REST_VALUES_MAX; i++) {
        vals[i].data = (const unsigned char *) "c";
        vals[i].len = 1;
    }
    op = ngx_webpubsub_rest_op((const unsigned char *) "send_to_all", 11);
    memset(&a, 0, sizeof(a));
    a.v[NGX_WEBPUBSUB_REST_EXCLUDED] = vals;
    a.n[NGX_WEBPUBSUB_REST_EXCLUDED] = NGX_WEBPUBSUB_REST_VALUES_MAX;
    check(ngx_webpubsub_rest_check(op, &a, &param) == NULL,
          "100 excluded connections");
    a.n[NGX_WEBPUBSUB_REST_EXCLUDED]++;
    check(ngx_webpubsub_rest_check(op, &a, &param) != NULL
          && param == NGX_WEBPUBSUB_REST_EXCLUDED, "101 excluded connections");

    free(buf);
    free(dst);
}


/*
 * The shapes of a JWS signing input, refused as connection ids; the
 * base64url texts were encoded outside the core (Python's base64).
 */

static void
test_jws_shaped(void)
{
    size_t  i;

    static const struct {
        const char  *id;
        int          shaped;
    } v[] = {
        /* {"alg":"HS256","typ":"JWT"} . {"sub":"u1"} */
        { "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1MSJ9", 1 },
        { "eyJhIjoxfQ.x", 1 },                   /* {"a":1} */
        { "IHsiYSI6MX0g.eA", 1 },                /* white space around */
        { "eyJhIjoxLCJhIjoyfQ.e30", 1 },         /* a duplicate name */
        { "e30.e30", 1 },                        /* {} */
        { "eyJhIjoxfQ", 0 },                     /* no dot */
        { "eyJhIjoxfQ.", 0 },
        { ".eyJhIjoxfQ", 0 },
        { "eyJhIjoxfQ.e30.x", 0 },               /* two dots */
        { "eyJhIjoxfQ=.e30", 0 },                /* padding */
        { "WzFd.e30", 0 },                       /* [1]: not an object */
        { "sensor.kitchen", 0 },                 /* an MQTT client id */
        { "a.b", 0 },
        { "eyJhIjoxf.e30", 0 },                  /* 9 characters */
        { "0f9c97a2-f0bf-4706-afe8-7a14e0797b11", 0 },
        { "", 0 }
    };

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        check(ngx_webpubsub_jws_shaped((const unsigned char *) v[i].id,
                                       strlen(v[i].id))
              == v[i].shaped, v[i].id);
    }
}


static void
test_endpoint_mistake(void)
{
    static const struct {
        const char  *url;
        const char  *port;
        const char  *err;     /* NULL: no mistake */
        const char  *fix;
    } v[] = {
        { "https://x.webpubsub.azure.com", NULL, NULL, NULL },
        { "https://x.webpubsub.azure.com/", NULL, NULL, NULL },
        { "http://127.0.0.1:8080", NULL, NULL, NULL },
        { "http://h/client/", NULL, NULL, NULL },
        { "http://h/clients/", NULL, NULL, NULL },
        { "http://h/my-client/hubs/", NULL, NULL, NULL },
        { "http://h/clienthubs/x", NULL, NULL, NULL },
        { "http://webpubsub.azure.com", NULL, NULL, NULL },
        { "http://x.webpubsub.azure.com.example", NULL, NULL, NULL },
        { "http://xwebpubsub.azure.com", NULL, NULL, NULL },
        { "ftp://x.webpubsub.azure.com", NULL, NULL, NULL },
        { "ws://h?a=b&c", NULL, "has an endpoint that is not http or https",
          "http://h" },
        { "ws://", NULL, NULL, NULL },

        { "https://x.webpubsub.azure.com/client/hubs/chat", NULL,
          "has a client URL as endpoint, not the resource's origin",
          "https://x.webpubsub.azure.com" },
        { "x.webpubsub.azure.com/client/hubs/chat", NULL,
          "has a client URL as endpoint, not the resource's origin",
          "https://x.webpubsub.azure.com" },
        { "WSS://X.WebPubSub.Azure.com/client/hubs/chat?access_token=a.b.c",
          NULL, "has a client URL as endpoint, not the resource's origin",
          "https://x.webpubsub.azure.com" },
        { "http://x.webpubsub.azure.com/client/hubs/", NULL,
          "has a client URL as endpoint, not the resource's origin",
          "https://x.webpubsub.azure.com" },
        { "ws://h:8080/base/clients/socketio/hubs/x", NULL,
          "has a client URL as endpoint, not the resource's origin",
          "http://h:8080/base" },
        { "http://h/a/clients/mqtt/hubs/chat#f", NULL,
          "has a client URL as endpoint, not the resource's origin",
          "http://h/a" },
        { "http://h/Client/Hubs", NULL,
          "has a client URL as endpoint, not the resource's origin",
          "http://h" },

        { "http://x.webpubsub.azure.com", NULL,
          "has an http endpoint, but Azure Web PubSub needs https",
          "https://x.webpubsub.azure.com" },
        { "HTTP://X.WebPubSub.Azure.COM/", NULL,
          "has an http endpoint, but Azure Web PubSub needs https",
          "https://x.webpubsub.azure.com" },
        { "http://x.webpubsub.azure.cn", NULL,
          "has an http endpoint, but Azure Web PubSub needs https",
          "https://x.webpubsub.azure.cn" },
        { "http://x.webpubsub.azure.com.", NULL,
          "has an http endpoint, but Azure Web PubSub needs https",
          "https://x.webpubsub.azure.com." },
        { "http://x.webpubsub.azure.com", "8443",
          "has an http endpoint, but Azure Web PubSub needs https",
          "https://x.webpubsub.azure.com:8443" },
        { "ws://x.webpubsub.azure.com", NULL,
          "has a ws endpoint, but Azure Web PubSub needs https",
          "https://x.webpubsub.azure.com" },
        { "wss://x.webpubsub.azure.com", NULL,
          "has an endpoint that is not http or https",
          "https://x.webpubsub.azure.com" },
        { "ws://h", NULL, "has an endpoint that is not http or https",
          "http://h" },
        { "wss://h:8443/p/", NULL, "has an endpoint that is not http or https",
          "https://h:8443/p" },
    };
    unsigned char        fix[NGX_WEBPUBSUB_ENDPOINT_MAX];
    size_t               i, n;
    const char          *err;
    ngx_webpubsub_str_t  port, *pp;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        pp = NULL;

        if (v[i].port) {
            port.data = (const unsigned char *) v[i].port;
            port.len = strlen(v[i].port);
            pp = &port;
        }

        n = 12345;
        err = ngx_webpubsub_endpoint_mistake((const unsigned char *) v[i].url,
                                             strlen(v[i].url), pp, fix, &n);

        if (v[i].err == NULL) {
            check(err == NULL && n == 0, v[i].url);
            if (err != NULL) {
                printf("  got: %s\n", err);
            }
            continue;
        }

        check(err != NULL && strcmp(err, v[i].err) == 0, v[i].url);
        check(eq(fix, n, v[i].fix), v[i].fix);
        if (err == NULL || !eq(fix, n, v[i].fix)) {
            printf("  got: %s, \"%.*s\"\n", err ? err : "(none)", (int) n,
                   (const char *) fix);
        }
    }
}


static void
test_endpoint_mistake_bound(void)
{
    static const char     suffix[] = ".webpubsub.azure.com";
    unsigned char         url[NGX_WEBPUBSUB_ENDPOINT_MAX + 16];
    unsigned char         fix[NGX_WEBPUBSUB_ENDPOINT_MAX + 1];
    size_t                n, host, len;
    const char           *err;

    /*
     * The longest endpoint that parses, "http://<host>/", 2048 bytes
     * normalised: its fix, "https://<host>", must fit the documented
     * NGX_WEBPUBSUB_ENDPOINT_MAX bytes (the canary after them stays).
     */

    host = NGX_WEBPUBSUB_ENDPOINT_MAX - 8 - (sizeof(suffix) - 1);
    memcpy(url, "http://", 7);
    memset(url + 7, 'h', host);
    memcpy(url + 7 + host, suffix, sizeof(suffix) - 1);
    len = 7 + host + sizeof(suffix) - 1;

    fix[NGX_WEBPUBSUB_ENDPOINT_MAX] = 0xa5;
    err = ngx_webpubsub_endpoint_mistake(url, len, NULL, fix, &n);
    check(err != NULL && n == len + 1 && n == NGX_WEBPUBSUB_ENDPOINT_MAX
          && memcmp(fix, "https://", 8) == 0
          && memcmp(fix + 8, url + 7, len - 7) == 0
          && fix[NGX_WEBPUBSUB_ENDPOINT_MAX] == 0xa5,
          "longest http Azure endpoint: https fix fits");

    /* one more byte: parse_endpoint() refuses it, and so no fix is given */
    memcpy(url + 7 + host + 1, suffix, sizeof(suffix) - 1);
    url[7 + host] = 'h';
    err = ngx_webpubsub_endpoint_mistake(url, len + 1, NULL, fix, &n);
    check(err == NULL && n == 0, "too long: no mistake, parse says why");

    /* ws:// is read as http://, two bytes more, and stays bounded */
    memcpy(url, "ws://", 5);
    memset(url + 5, 'h', NGX_WEBPUBSUB_ENDPOINT_MAX + 8);
    err = ngx_webpubsub_endpoint_mistake(url, NGX_WEBPUBSUB_ENDPOINT_MAX + 8,
                                         NULL, fix, &n);
    check(err == NULL && n == 0, "long ws URL: no mistake, parse says why");
}


static void
test_key_file(void)
{
    static const struct {
        const char  *in;
        size_t       len;     /* 0: strlen(in) */
        const char  *err;
        const char  *key;
    } v[] = {
        { "abc", 0, NULL, "abc" },
        { "abc\r\n", 0, NULL, "abc" },
        { "abc \t\r\n\n \n\r\n", 0, NULL, "abc" },
        { "a b", 0, NULL, "a b" },
        { "k3y+/base64==\n", 0, NULL, "k3y+/base64==" },
        { "accesskey\n", 0, NULL, "accesskey" },
        { "\xef\xbb", 0, NULL, "\xef\xbb" },
        { "a\0b", 3, NULL, NULL },
        { "", 0, "is empty", NULL },
        { "\n", 0, "is empty", NULL },
        { " \t\r\n\n", 0, "is empty", NULL },
        { "\xef\xbb\xbf" "abc\n", 0,
          "starts with a UTF-8 byte order mark, save it without one", NULL },
        { "\xef\xbb\xbf", 0,
          "starts with a UTF-8 byte order mark, save it without one", NULL },
        { "a\nb", 0, "has a second line of text, but a key file holds one "
          "key: give each key a file of its own", NULL },
        { "a\n\n \r\n b\n", 0, "has a second line of text, but a key file "
          "holds one key: give each key a file of its own", NULL },
        { "\nabc", 0, "starts with an empty line, put the key on the first "
          "line", NULL },
        { "  \r\nabc\n", 0, "starts with an empty line, put the key on the "
          "first line", NULL },
        { "Endpoint=https://h;AccessKey=x;Version=1.0;\n", 0,
          "holds a connection string, not a key: put only the AccessKey "
          "value in it, or give the whole string to "
          "webpubsub_connection_string", NULL },
        { "ACCESSKEY \t=x", 0,
          "holds a connection string, not a key: put only the AccessKey "
          "value in it, or give the whole string to "
          "webpubsub_connection_string", NULL },
        { "x\nendpoint=", 0,
          "holds a connection string, not a key: put only the AccessKey "
          "value in it, or give the whole string to "
          "webpubsub_connection_string", NULL },
    };
    size_t               i, len;
    const char          *err;
    ngx_webpubsub_str_t  key;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        len = v[i].len ? v[i].len : strlen(v[i].in);

        err = ngx_webpubsub_key_file((const unsigned char *) v[i].in, len,
                                     &key);

        if (v[i].err) {
            check(err != NULL && strcmp(err, v[i].err) == 0, v[i].in);
            if (err == NULL || strcmp(err, v[i].err) != 0) {
                printf("  got: %s\n", err ? err : "(no error)");
            }
            continue;
        }

        check(err == NULL, v[i].in);

        if (v[i].key) {
            check(eq(key.data, key.len, v[i].key), v[i].key);

        } else {
            /* a NUL is a byte of the key like any other */
            check(key.len == len && key.data == (const unsigned char *) v[i].in,
                  "key with a NUL");
        }
    }
}


int
main(void)
{
    test_base64url();
    test_hmac();
    test_client_token();
    test_rest_token();
    test_prepared_hmac();
    test_json_escape();
    test_random();
    test_json_roundtrip();
    test_connection_string();
    test_endpoint_parts();
    test_hub();
    test_event_type();
    test_signature();
    test_signature_bytes();
    test_origin();
    test_jws_shaped();
    test_rest_requests();
    test_uri_component();
    test_rest_path();
    test_rest_values();
    test_next_link_and_form();
    test_endpoint_bound();
    test_core_bounds();
    test_endpoint_mistake();
    test_endpoint_mistake_bound();
    test_key_file();

    printf("%d passed, %d failed\n", passed, failed);

    return failed ? 1 : 0;
}
