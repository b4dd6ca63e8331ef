
/*
 * Unit tests of the client token templates (ngx_webpubsub_token_*), the
 * negotiate fast path.  The oracle is computed here, apart from the core:
 * the claims are written out with snprintf() or as literals, encoded with
 * OpenSSL's EVP_EncodeBlock() turned into base64url, and signed with
 * OpenSSL's one-shot HMAC().  Built twice by the Makefile: with the
 * SHA-256 pad states, and with NGX_WEBPUBSUB_HMAC_EVP (the EVP_MAC path).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ngx_webpubsub_core.h"
#include "check.h"


#define S(lit)  { (const unsigned char *) lit, sizeof(lit) - 1 }


/* base64url without padding, from OpenSSL's standard base64 */

static size_t
b64url(char *dst, const unsigned char *src, size_t n)
{
    int     len;
    size_t  i;

    len = EVP_EncodeBlock((unsigned char *) dst, src, (int) n);

    while (len > 0 && dst[len - 1] == '=') {
        len--;
    }

    for (i = 0; i < (size_t) len; i++) {
        if (dst[i] == '+') {
            dst[i] = '-';

        } else if (dst[i] == '/') {
            dst[i] = '_';
        }
    }

    dst[len] = '\0';

    return len;
}


/* the JWT of these claims, as the SDK signs it with this key */

static char *
expected_jwt(const char *claims, size_t claims_len, const unsigned char *key,
    size_t key_len)
{
    char           *jwt, *p;
    unsigned int    mac_len;
    unsigned char   mac[32];

    jwt = malloc(64 + claims_len * 2);
    if (jwt == NULL) {
        abort();
    }

    p = jwt + sprintf(jwt, "%s.", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    p += b64url(p, (const unsigned char *) claims, claims_len);

    HMAC(EVP_sha256(), key, (int) key_len, (unsigned char *) jwt, p - jwt,
         mac, &mac_len);

    *p++ = '.';
    b64url(p, mac, mac_len);

    return jwt;
}


/*
 * The template's token, into buffers of exactly the size it asks for (so
 * that AddressSanitizer sees any byte written past them); NULL on error.
 */

static char *
template_jwt(ngx_webpubsub_hmac_t *key, const char *aud,
    const ngx_webpubsub_str_t *roles, size_t nroles,
    const ngx_webpubsub_str_t *groups, size_t ngroups, const char *hub,
    const char *sub, size_t sub_len, int64_t iat, int64_t exp,
    int *bounded)
{
    char                   *jwt;
    size_t                  tlen, slen, len;
    unsigned char          *dst, *scratch;
    ngx_webpubsub_str_t     a, h, s;
    ngx_webpubsub_token_t  *t;

    a.data = (const unsigned char *) aud;
    a.len = strlen(aud);
    h.data = (const unsigned char *) hub;
    h.len = strlen(hub);
    s.data = (const unsigned char *) sub;
    s.len = sub_len;

    t = ngx_webpubsub_token_new(key, &a, roles, nroles, groups, ngroups);
    if (t == NULL) {
        return NULL;
    }

    ngx_webpubsub_token_length(t, &h, &s, &tlen, &slen);

    dst = malloc(tlen);
    scratch = malloc(slen);
    jwt = NULL;

    if (dst != NULL && scratch != NULL
        && ngx_webpubsub_token_sign(t, &h, &s, iat, exp, dst, scratch, &len)
           == 0)
    {
        *bounded = (len <= tlen);
        jwt = malloc(len + 1);

        if (jwt != NULL) {
            memcpy(jwt, dst, len);
            jwt[len] = '\0';
        }
    }

    free(dst);
    free(scratch);
    ngx_webpubsub_token_free(t);

    return jwt;
}


/* docs/protocol.md 2.1: the SDK's token, from a template */

static void
test_vector(void)
{
    int                    bounded;
    char                  *jwt;
    ngx_webpubsub_str_t    key = S("abc");
    ngx_webpubsub_str_t    roles[] = { S("webpubsub.joinLeaveGroup.room1") };
    ngx_webpubsub_str_t    groups[] = { S("room1") };
    ngx_webpubsub_hmac_t  *h;

    h = ngx_webpubsub_hmac_new(&key);
    check(h != NULL, "prepared key");

    jwt = template_jwt(h, "http://localhost:8080/client/hubs/", roles, 1,
                       groups, 1, "chat", "user1", 5, 1700000000, 1700003600,
                       &bounded);

    check(jwt != NULL && strcmp(jwt,
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjpbIndlYnB1YnN1Yi"
             "5qb2luTGVhdmVHcm91cC5yb29tMSJdLCJ3ZWJwdWJzdWIuZ3JvdXAiOlsicm9vb"
             "TEiXSwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsImF1ZCI6Imh0"
             "dHA6Ly9sb2NhbGhvc3Q6ODA4MC9jbGllbnQvaHVicy9jaGF0Iiwic3ViIjoidXN"
             "lcjEifQ.jrGRD6vRoA0pVLXu2wLTs8kcvCepom6KoafVSxg4odY") == 0,
          "docs/protocol.md 2.1 token vector from a template");
    check(bounded, "token length bound");

    free(jwt);
    ngx_webpubsub_hmac_free(h);
}


/*
 * Every length of the constant head modulo 3 and around each 64-byte
 * block of the signed prefix, every shape of claims, keys of every size
 * class (shorter than, as long as and longer than a SHA-256 block).
 */

static void
test_shapes(void)
{
    int                    bounded, same, all_bounded;
    char                  *jwt, *want, role[300], group[16], hub[16];
    char                   claims[1200];
    char                   roles_json[400], groups_json[64];
    size_t                 i, k, rlen, klen, n;
    unsigned char          kbuf[200];
    ngx_webpubsub_str_t    key, roles[2], groups[1];
    ngx_webpubsub_hmac_t  *h;

    static const size_t    key_lens[] = { 1, 26, 63, 64, 65, 200 };
    /* times of every width mod 3, so the audience meets every alignment */
    static const int       iat[] = { 0, 7, 42, 99999, 1700000000,
                                     1700000001, 123456 };
    static const char     *subs[] = { "", "alice", "x" };

    same = 1;
    all_bounded = 1;

    for (k = 0; k < sizeof(key_lens) / sizeof(key_lens[0]); k++) {
        klen = key_lens[k];

        for (i = 0; i < klen; i++) {
            kbuf[i] = (unsigned char) ('a' + (i * 7 + k) % 26);
        }

        key.data = kbuf;
        key.len = klen;

        h = ngx_webpubsub_hmac_new(&key);
        if (h == NULL) {
            check(0, "prepared key");
            return;
        }

        for (rlen = 0; rlen <= 260; rlen++) {
            memset(role, 'r', rlen);
            role[rlen] = '\0';
            roles[0].data = (const unsigned char *) role;
            roles[0].len = rlen;
            roles[1].data = (const unsigned char *) "webpubsub.sendToGroup";
            roles[1].len = sizeof("webpubsub.sendToGroup") - 1;
            sprintf(group, "g%zu", rlen % 7);
            groups[0].data = (const unsigned char *) group;
            groups[0].len = strlen(group);

            /* rlen 0: no claims before iat at all */
            sprintf(roles_json, "\"role\":[\"%s\",\"webpubsub.sendToGroup\"],",
                    role);
            sprintf(groups_json, "\"webpubsub.group\":[\"%s\"],", group);

            n = snprintf(claims, sizeof(claims),
                         "{%s%s\"iat\":%d,\"exp\":%d,\"aud\":\"https://"
                         "contoso.webpubsub.azure.com/client/hubs/hub_%zu\""
                         "%s%s%s}",
                         rlen ? roles_json : "",
                         rlen % 2 ? groups_json : "",
                         iat[rlen % 7], iat[rlen % 7] + 3600,
                         rlen % 10,
                         subs[rlen % 3][0] ? ",\"sub\":\"" : "",
                         subs[rlen % 3],
                         subs[rlen % 3][0] ? "\"" : "");

            want = expected_jwt(claims, n, kbuf, klen);

            sprintf(hub, "hub_%zu", rlen % 10);

            jwt = template_jwt(h, "https://contoso.webpubsub.azure.com/"
                               "client/hubs/", roles, rlen ? 2 : 0,
                               groups, rlen % 2, hub, subs[rlen % 3],
                               strlen(subs[rlen % 3]),
                               iat[rlen % 7], iat[rlen % 7] + 3600,
                               &bounded);

            if (jwt == NULL || strcmp(jwt, want) != 0) {
                if (same) {
                    printf("# key %zu, role %zu:\n#   got  %s\n#   want %s\n",
                           klen, rlen, jwt ? jwt : "(error)", want);
                }

                same = 0;
            }

            all_bounded = all_bounded && bounded;

            free(jwt);
            free(want);
        }

        ngx_webpubsub_hmac_free(h);
    }

    check(same, "template tokens equal HMAC() of the claims, all shapes");
    check(all_bounded, "template token lengths within their bound");
}


/*
 * Values that need escaping, as JSON.stringify() escapes them: constant
 * roles and groups at template time, the user id and the hub per token,
 * and bytes that are no UTF-8 (U+FFFD); large iat and exp values.
 */

static void
test_escapes(void)
{
    int                    bounded;
    char                  *jwt, *want, sub[4097];
    size_t                 n;
    ngx_webpubsub_str_t    key = S("bench-key-0123456789abcdef");
    ngx_webpubsub_str_t    roles[] = { S("a\"b\\c"), S("\xc3\xa9t\xc3\xa9") };
    ngx_webpubsub_str_t    groups[] = { S("tab\there"), S("\x01\xff") };
    ngx_webpubsub_hmac_t  *h;

    static const char      claims[] =
        "{\"role\":[\"a\\\"b\\\\c\",\"\xc3\xa9t\xc3\xa9\"],"
        "\"webpubsub.group\":[\"tab\\there\",\"\\u0001\xef\xbf\xbd\"],"
        "\"iat\":9223372036854775000,\"exp\":9223372036854775807,"
        "\"aud\":\"http://127.0.0.1:8080/base/client/hubs/Hub`,.[]_9\","
        "\"sub\":\"line\\nbreak \\\"q\\\" \\u001f\xef\xbf\xbd\\\\\"}";

    h = ngx_webpubsub_hmac_new(&key);
    check(h != NULL, "prepared key");

    want = expected_jwt(claims, sizeof(claims) - 1, key.data, key.len);
    jwt = template_jwt(h, "http://127.0.0.1:8080/base/client/hubs/",
                       roles, 2, groups, 2, "Hub`,.[]_9",
                       "line\nbreak \"q\" \x1f\xfe\\",
                       strlen("line\nbreak \"q\" \x1f\xfe\\"),
                       9223372036854775000LL, 9223372036854775807LL,
                       &bounded);

    check(jwt != NULL && strcmp(jwt, want) == 0,
          "template escapes roles, groups and the user id like the SDK");
    check(bounded, "escaped token length bound");

    free(jwt);
    free(want);

    /* the longest user id, all of it escaped: the bound still holds */

    memset(sub, '\x01', 4096);
    sub[4096] = '\0';

    jwt = template_jwt(h, "http://127.0.0.1:8080/base/client/hubs/",
                       NULL, 0, NULL, 0, "chat", sub, 4096, 1, 2, &bounded);

    n = jwt ? strlen(jwt) : 0;
    check(jwt != NULL && bounded && n > 4096 * 6 * 4 / 3,
          "a user id of 4096 control characters is signed in bounds");

    free(jwt);
    ngx_webpubsub_hmac_free(h);
}


/* a template signs what the general functions sign, token after token */

static void
test_agrees(void)
{
    int                     bounded, same;
    char                   *jwt;
    size_t                  i, plen, tlen;
    unsigned char           payload[512], token[1024];
    ngx_webpubsub_str_t     key = S("k"), roles[] = { S("r1"), S("r2") };
    ngx_webpubsub_hmac_t   *h;
    ngx_webpubsub_claims_t  c;

    h = ngx_webpubsub_hmac_new(&key);
    check(h != NULL, "prepared key");

    same = 1;

    for (i = 0; i < 50; i++) {
        memset(&c, 0, sizeof(c));
        c.aud.data = (const unsigned char *) "https://h/client/hubs/chat";
        c.aud.len = sizeof("https://h/client/hubs/chat") - 1;
        c.sub.data = (const unsigned char *) "someone";
        c.sub.len = i % 8;
        c.roles = roles;
        c.nroles = i % 3;
        c.iat = (int64_t) i * 1000003;
        c.exp = c.iat + 60;

        plen = ngx_webpubsub_client_claims(payload, &c) - payload;
        ngx_webpubsub_jwt_sign(token, &tlen, payload, plen, h);

        jwt = template_jwt(h, "https://h/client/hubs/", roles, i % 3, NULL,
                           0, "chat", "someone", i % 8, c.iat, c.exp,
                           &bounded);

        if (jwt == NULL || strlen(jwt) != tlen
            || memcmp(jwt, token, tlen) != 0)
        {
            same = 0;
        }

        free(jwt);
    }

    check(same, "template and ngx_webpubsub_jwt_sign() agree");

    ngx_webpubsub_hmac_free(h);
}


/*
 * One template for many tokens, as a location uses it: the times it keeps
 * from the last token are written again when they change, at any width.
 */

static void
test_reuse(void)
{
    int                     same;
    char                    audbuf[64];
    size_t                  i, plen, tlen, len, slen, wlen;
    int64_t                 now;
    unsigned char           payload[512], whole[1024], dst[1024];
    unsigned char           scratch[512];
    ngx_webpubsub_str_t     key = S("k"), roles[] = { S("r") };
    ngx_webpubsub_str_t     aud = S("https://h/client/hubs/");
    ngx_webpubsub_str_t     hub, sub;
    ngx_webpubsub_hmac_t   *h;
    ngx_webpubsub_token_t  *t;
    ngx_webpubsub_claims_t  c;

    /* a second's state is kept: the same times come again and again */
    static const int64_t    times[] = { 1700000000, 1700000000, 1700000000,
                                        1700000001, 5, 5, 5, 99, 1000,
                                        1700000001, 1700000001, -12,
                                        9223372036854771807LL };
    static const char      *subs[] = { "alice", "", "b\"o\\b\x01\xc3\xa9",
                                       "a-user-id-long-enough-for-a-block"
                                       "-of-its-own-0123456789abcdef" };
    static const char      *hubs[] = { "chat", "h", "a_hub_of_some_length" };

    h = ngx_webpubsub_hmac_new(&key);
    t = ngx_webpubsub_token_new(h, &aud, roles, 1, NULL, 0);
    check(h != NULL && t != NULL, "prepared key and template");

    same = 1;

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        now = times[i];

        sub.data = (const unsigned char *) subs[i % 4];
        sub.len = strlen(subs[i % 4]);
        hub.data = (const unsigned char *) hubs[i % 3];
        hub.len = strlen(hubs[i % 3]);

        snprintf(audbuf, sizeof(audbuf), "https://h/client/hubs/%s",
                 hubs[i % 3]);

        memset(&c, 0, sizeof(c));
        c.aud.data = (const unsigned char *) audbuf;
        c.aud.len = strlen(audbuf);
        c.sub = sub;
        c.roles = roles;
        c.nroles = 1;
        c.iat = now;
        c.exp = now + (int64_t) (i % 5 / 3) * 1000;

        plen = ngx_webpubsub_client_claims(payload, &c) - payload;
        ngx_webpubsub_jwt_sign(whole, &wlen, payload, plen, h);

        ngx_webpubsub_token_length(t, &hub, &sub, &tlen, &slen);

        if (tlen > sizeof(dst) || slen > sizeof(scratch)
            || ngx_webpubsub_token_sign(t, &hub, &sub, c.iat, c.exp, dst,
                                        scratch, &len)
               != 0
            || len != wlen || memcmp(dst, whole, len) != 0)
        {
            same = 0;
        }
    }

    check(same, "one template, token after token (times kept, users and "
          "hubs changing), as the whole claims");

    ngx_webpubsub_token_free(t);
    ngx_webpubsub_hmac_free(h);
}


/*
 * REST tokens: claims {"iat","exp","aud"} from one template with an empty
 * audience and the whole URL as the hub, as a REST location signs them:
 * URLs of every length mod 3 and across the blocks of the signed prefix,
 * some with bytes to escape (a service's next-page link may carry them),
 * several URLs in each second and the seconds changing, with times of
 * every width mod 3 (every alignment of the audience).
 */

static void
test_rest_shape(void)
{
    int                     same, bounded;
    char                   *want, url[400], esc[400], claims[600];
    size_t                  i, n, m, tlen, slen, len;
    int64_t                 iat;
    unsigned char          *dst, *scratch;
    ngx_webpubsub_str_t     key, aud, u, nosub;
    ngx_webpubsub_hmac_t   *h;
    ngx_webpubsub_token_t  *t;

    /* with exp = iat + 3600, the audience after 13, 14 and 15 bytes */
    static const int64_t    iats[] = { 5, 50, 500, 1700000000 };

    key.data = (const unsigned char *) "rest-key";
    key.len = sizeof("rest-key") - 1;
    aud.data = (const unsigned char *) "";
    aud.len = 0;
    nosub.data = (const unsigned char *) "";
    nosub.len = 0;

    h = ngx_webpubsub_hmac_new(&key);
    t = (h != NULL) ? ngx_webpubsub_token_new(h, &aud, NULL, 0, NULL, 0)
                    : NULL;

    if (t == NULL) {
        check(0, "prepared key and REST template");
        ngx_webpubsub_hmac_free(h);
        return;
    }

    same = 1;
    bounded = 1;

    for (i = 0; i < 240; i++) {
        iat = iats[i / 5 % 4];

        /* the URL as sent, and as JSON has it, by hand */
        n = (size_t) snprintf(url, sizeof(url), "https://contoso.webpubsub."
                              "azure.com/api/hubs/chat/groups/g%s%zu/:send?"
                              "api-version=2024-12-01",
                              i % 4 ? "" : "\"\\", i);
        m = (size_t) snprintf(esc, sizeof(esc), "https://contoso.webpubsub."
                              "azure.com/api/hubs/chat/groups/g%s%zu/:send?"
                              "api-version=2024-12-01",
                              i % 4 ? "" : "\\\"\\\\", i);
        memset(url + n, 'p', i % 200);
        url[n + i % 200] = '\0';
        memset(esc + m, 'p', i % 200);
        esc[m + i % 200] = '\0';

        snprintf(claims, sizeof(claims), "{\"iat\":%lld,\"exp\":%lld,"
                 "\"aud\":\"%s\"}", (long long) iat, (long long) iat + 3600,
                 esc);

        want = expected_jwt(claims, strlen(claims), key.data, key.len);

        u.data = (const unsigned char *) url;
        u.len = strlen(url);

        /* exactly the room asked for, for AddressSanitizer */
        ngx_webpubsub_token_length(t, &u, &nosub, &tlen, &slen);
        dst = malloc(tlen);
        scratch = malloc(slen);
        len = 0;

        if (dst == NULL || scratch == NULL
            || ngx_webpubsub_token_sign(t, &u, &nosub, iat, iat + 3600, dst,
                                        scratch, &len)
               != 0
            || len > tlen || len != strlen(want)
            || memcmp(dst, want, len) != 0)
        {
            if (same) {
                printf("# url %s, iat %lld:\n#   want %s\n", url,
                       (long long) iat, want);
            }

            same = 0;
        }

        bounded = bounded && len <= tlen;

        free(dst);
        free(scratch);
        free(want);
    }

    ngx_webpubsub_token_free(t);
    ngx_webpubsub_hmac_free(h);

    check(same, "REST tokens from one template with an empty audience, URL "
          "after URL and second after second, equal HMAC() of {iat, exp, "
          "aud}");
    check(bounded, "REST template token lengths within their bound");
}


int
main(void)
{
    test_vector();
    test_shapes();
    test_escapes();
    test_agrees();
    test_reuse();
    test_rest_shape();

    printf("%d passed, %d failed\n", passed, failed);

    return failed ? 1 : 0;
}
