
/*
 * The cost of one client access token in the protocol core (claims JSON,
 * base64url, HMAC-SHA256), outside nginx, against a floor measured by the
 * same program: wall time per token here, and instructions per token under
 * "valgrind --tool=callgrind" (bench/all.sh subtracts a run of count 1 from
 * one of count 10001).
 *
 *   token  ngx_webpubsub_token_sign() from a template of the key, the
 *          audience and the constant roles and groups, as a negotiate
 *          location whose roles and groups hold no variables makes a token,
 *          every token of the same second (iat and exp), as nearly every
 *          request of a busy location is: the template keeps the second's
 *          encoded times and the SHA-256 state up to the hub
 *   second the same, every token in a new second (iat and exp change each
 *          time): the template's worst case, what the first token of a
 *          second costs
 *   whole  ngx_webpubsub_client_claims() and ngx_webpubsub_jwt_sign(), the
 *          claims written whole, as with roles or groups from variables
 *   floor  the pad-state floor: HMAC-SHA256 of the same signing input (the
 *          "header.payload" of a token made first) from SHA-256 states of
 *          the key's inner and outer pads prepared once, copied for each
 *          MAC; the least an HMAC of that input costs with this libcrypto.
 *          Its MAC must equal the token's signature, or nothing is printed.
 *          A template token within a second hashes less than the whole
 *          input, so it may cost less than this floor.
 *
 * Usage: token_cost [count [token|second|whole|floor]]
 *        (default 200000 token)
 */


/* clock_gettime() under -std=c99 */
#define _POSIX_C_SOURCE  199309L

/* SHA256_Init/Update/Final: deprecated in OpenSSL 3, still the fastest */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "ngx_webpubsub_core.h"


#define TOKEN_COST_BLOCK  64


static int token_cost_pads(SHA256_CTX *inner, SHA256_CTX *outer,
    const ngx_webpubsub_str_t *key);
static double token_cost_ns(const struct timespec *t0,
    const struct timespec *t1);
static int token_cost_template(ngx_webpubsub_hmac_t *hkey,
    ngx_webpubsub_claims_t *c, long n, int every);


int
main(int argc, char **argv)
{
    long                    i, n;
    char                   *dot;
    size_t                  plen, tlen, slen, len;
    double                  ns;
    const char             *mode;
    SHA256_CTX              ictx, octx, ctx;
    unsigned char           payload[1024], token[2048], sig[64];
    unsigned char           inner[SHA256_DIGEST_LENGTH];
    unsigned char           mac[SHA256_DIGEST_LENGTH];
    struct timespec         t0, t1;
    ngx_webpubsub_str_t     key = { (const unsigned char *) "bench-key", 9 };
    ngx_webpubsub_str_t     roles[] = {
        { (const unsigned char *) "webpubsub.joinLeaveGroup.lobby", 30 } };
    ngx_webpubsub_str_t     groups[] = {
        { (const unsigned char *) "lobby", 5 } };
    ngx_webpubsub_hmac_t   *hkey;
    ngx_webpubsub_claims_t  c;

    n = argc > 1 ? atol(argv[1]) : 200000;
    mode = argc > 2 ? argv[2] : "token";

    if (n < 1
        || (strcmp(mode, "token") != 0 && strcmp(mode, "second") != 0
            && strcmp(mode, "whole") != 0 && strcmp(mode, "floor") != 0))
    {
        fprintf(stderr,
                "usage: token_cost [count [token|second|whole|floor]]\n");
        return 2;
    }

    memset(&c, 0, sizeof(c));
    c.aud.data = (const unsigned char *)
                 "https://contoso.webpubsub.azure.com/client/hubs/chat";
    c.aud.len = strlen((const char *) c.aud.data);
    c.sub.data = (const unsigned char *) "alice";
    c.sub.len = 5;
    c.roles = roles;
    c.nroles = 1;
    c.groups = groups;
    c.ngroups = 1;
    c.iat = 1700000000;
    c.exp = c.iat + 3600;

    hkey = ngx_webpubsub_hmac_new(&key);
    if (hkey == NULL) {
        return 1;
    }

    if (strcmp(mode, "token") == 0 || strcmp(mode, "second") == 0) {
        return token_cost_template(hkey, &c, n, mode[0] == 's');
    }

    if (strcmp(mode, "whole") == 0) {
        clock_gettime(CLOCK_MONOTONIC, &t0);

        for (i = 0; i < n; i++) {
            c.exp = c.iat + 3600 + (i & 1);
            plen = ngx_webpubsub_client_claims(payload, &c) - payload;

            if (ngx_webpubsub_jwt_sign(token, &tlen, payload, plen, hkey)
                != 0)
            {
                return 1;
            }
        }

        clock_gettime(CLOCK_MONOTONIC, &t1);

        ns = token_cost_ns(&t0, &t1);
        ngx_webpubsub_hmac_free(hkey);

        printf("%ld tokens of %zu bytes, %.0f ns per token\n", n, tlen,
               ns / n);

        return 0;
    }

    /* floor: one token, then its signing input MACed from the pad states */

    plen = ngx_webpubsub_client_claims(payload, &c) - payload;

    if (ngx_webpubsub_jwt_sign(token, &tlen, payload, plen, hkey) != 0) {
        return 1;
    }

    ngx_webpubsub_hmac_free(hkey);

    token[tlen] = '\0';
    dot = strrchr((char *) token, '.');
    if (dot == NULL) {
        return 1;
    }

    len = (unsigned char *) dot - token;

    if (token_cost_pads(&ictx, &octx, &key) != 0) {
        return 1;
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);

    for (i = 0; i < n; i++) {
        ctx = ictx;
        SHA256_Update(&ctx, token, len);
        SHA256_Final(inner, &ctx);

        ctx = octx;
        SHA256_Update(&ctx, inner, sizeof(inner));
        SHA256_Final(mac, &ctx);
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    ns = token_cost_ns(&t0, &t1);

    /* the floor computes the token's own signature, or it is no floor */

    slen = ngx_webpubsub_base64url_encode(sig, mac, sizeof(mac));

    if (slen != tlen - len - 1 || memcmp(sig, dot + 1, slen) != 0) {
        fprintf(stderr, "token_cost: the floor's MAC is not the token's "
                "signature\n");
        return 1;
    }

    printf("%ld MACs of %zu bytes (pad-state floor, equal to the token's "
           "signature), %.0f ns per MAC\n", n, len, ns / n);

    return 0;
}


/*
 * The SHA-256 states after the key's inner and outer pad blocks
 * (RFC 2104): each MAC then starts from a copy, as a prepared key would.
 */

static int
token_cost_pads(SHA256_CTX *inner, SHA256_CTX *outer,
    const ngx_webpubsub_str_t *key)
{
    size_t         i;
    unsigned char  k[TOKEN_COST_BLOCK], pad[TOKEN_COST_BLOCK];

    memset(k, 0, sizeof(k));

    if (key->len > TOKEN_COST_BLOCK) {
        SHA256(key->data, key->len, k);

    } else {
        memcpy(k, key->data, key->len);
    }

    for (i = 0; i < TOKEN_COST_BLOCK; i++) {
        pad[i] = k[i] ^ 0x36;
    }

    if (SHA256_Init(inner) != 1 || SHA256_Update(inner, pad, sizeof(pad)) != 1)
    {
        return -1;
    }

    for (i = 0; i < TOKEN_COST_BLOCK; i++) {
        pad[i] = k[i] ^ 0x5c;
    }

    if (SHA256_Init(outer) != 1 || SHA256_Update(outer, pad, sizeof(pad)) != 1)
    {
        return -1;
    }

    return 0;
}


static double
token_cost_ns(const struct timespec *t0, const struct timespec *t1)
{
    return (t1->tv_sec - t0->tv_sec) * 1e9 + (t1->tv_nsec - t0->tv_nsec);
}


/* tokens from a template, as the negotiate handler makes them */

static int
token_cost_template(ngx_webpubsub_hmac_t *hkey, ngx_webpubsub_claims_t *c,
    long n, int every)
{
    long                    i;
    size_t                  tlen, slen, len, plen, wlen;
    double                  ns;
    unsigned char           token[2048], scratch[1024], payload[1024];
    unsigned char           whole[2048];
    struct timespec         t0, t1;
    ngx_webpubsub_str_t     aud, hub;
    ngx_webpubsub_token_t  *t;

    /* the audience up to the hub, which comes per token */

    aud = c->aud;
    aud.len -= 4;
    hub.data = aud.data + aud.len;
    hub.len = 4;

    t = ngx_webpubsub_token_new(hkey, &aud, c->roles, c->nroles, c->groups,
                                c->ngroups);
    if (t == NULL) {
        return 1;
    }

    ngx_webpubsub_token_length(t, &hub, &c->sub, &tlen, &slen);

    if (tlen > sizeof(token) || slen > sizeof(scratch)) {
        return 1;
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);

    for (i = 0; i < n; i++) {
        c->exp = c->iat + 3600 + (every ? i & 1 : 0);

        if (ngx_webpubsub_token_sign(t, &hub, &c->sub, c->iat, c->exp,
                                     token, scratch, &len)
            != 0)
        {
            return 1;
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    ns = token_cost_ns(&t0, &t1);

    /* the last token is the one the claims written whole give */

    plen = ngx_webpubsub_client_claims(payload, c) - payload;

    if (ngx_webpubsub_jwt_sign(whole, &wlen, payload, plen, hkey) != 0
        || wlen != len || memcmp(whole, token, len) != 0)
    {
        fprintf(stderr, "token_cost: the template's token differs\n");
        return 1;
    }

    ngx_webpubsub_token_free(t);
    ngx_webpubsub_hmac_free(hkey);

    printf("%ld tokens of %zu bytes from a template, %s, %.0f ns per "
           "token\n", n, len, every ? "a new second each" : "one second",
           ns / n);

    return 0;
}
