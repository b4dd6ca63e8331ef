
/*
 * The cost of one client access token in the protocol core (claims JSON,
 * base64url, HMAC-SHA256), outside nginx: wall time per token here, and
 * instructions per token under "valgrind --tool=callgrind".
 * Usage: token_cost [count]
 */


/* clock_gettime() under -std=c99 */
#define _POSIX_C_SOURCE  199309L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ngx_webpubsub_core.h"


int
main(int argc, char **argv)
{
    long                    i, n;
    size_t                  plen, tlen;
    double                  ns;
    unsigned char           payload[1024], token[2048];
    struct timespec         t0, t1;
    ngx_webpubsub_str_t     key = { (const unsigned char *) "bench-key", 9 };
    ngx_webpubsub_str_t     roles[] = {
        { (const unsigned char *) "webpubsub.joinLeaveGroup.lobby", 30 } };
    ngx_webpubsub_str_t     groups[] = {
        { (const unsigned char *) "lobby", 5 } };
    ngx_webpubsub_hmac_t   *hkey;
    ngx_webpubsub_claims_t  c;

    n = argc > 1 ? atol(argv[1]) : 200000;

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

    hkey = ngx_webpubsub_hmac_new(&key);
    if (hkey == NULL) {
        return 1;
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);

    for (i = 0; i < n; i++) {
        c.exp = c.iat + 3600 + (i & 1);
        plen = ngx_webpubsub_client_claims(payload, &c) - payload;

        if (ngx_webpubsub_jwt_sign(token, &tlen, payload, plen, hkey) != 0) {
            return 1;
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
    ngx_webpubsub_hmac_free(hkey);

    printf("%ld tokens of %zu bytes, %.0f ns per token\n", n, tlen, ns / n);

    return 0;
}
