
/*
 * libFuzzer target: what a webhook request carries that the gateway
 * parses: ce-signature lists, WebHook-Request-Origin lists, ce-type and
 * the hub, and connection ids shaped like a JWT.  A signature made from the input's first bytes as the key must
 * be found in any list that contains it.
 */


#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_webpubsub_core.h"


int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char                  list[2 * NGX_WEBPUBSUB_SHA256_LEN + 256];
    size_t                i, split, n;
    unsigned char         mac[NGX_WEBPUBSUB_SHA256_LEN];
    ngx_webpubsub_str_t   key, allowed[3];

    (void) ngx_webpubsub_check_event_type(data, size);
    (void) ngx_webpubsub_check_hub(data, size);

    /* a JWS signing input has exactly one dot */

    if (ngx_webpubsub_jws_shaped(data, size)
        && (memchr(data, '.', size) == NULL
            || memchr(data, '.', size) != memrchr(data, '.', size)))
    {
        abort();
    }

    /* the input as a signature header against a fixed MAC */

    memset(mac, 0xab, sizeof(mac));
    (void) ngx_webpubsub_signature_match(data, size, mac);

    /* the input as an origin list against the input's own pieces */

    split = size / 3;

    allowed[0].data = data;
    allowed[0].len = split;
    allowed[1].data = (const unsigned char *) "*";
    allowed[1].len = 1;
    allowed[2].data = data + split;
    allowed[2].len = size - split;

    (void) ngx_webpubsub_origin_match(data, size, allowed, 1);
    (void) ngx_webpubsub_origin_match(data, size, allowed + 2, 1);

    /* the index of the allowed origin that matched, or -1 */

    if (ngx_webpubsub_origin_match(data, size, allowed + 1, 1) < 0
        && size > 0)
    {
        /* "*" allows any origin that is there at all */
        for (i = 0; i < size; i++) {
            if (data[i] != ' ' && data[i] != ',' && data[i] != '\t') {
                abort();
            }
        }
    }

    /* a list that holds the right MAC, among junk, must match */

    if (size == 0) {
        return 0;
    }

    key.data = data;
    key.len = size > NGX_WEBPUBSUB_KEY_MAX ? NGX_WEBPUBSUB_KEY_MAX : size;

    if (ngx_webpubsub_hmac_sha256(&key, data, size, mac) != 0) {
        abort();
    }

    n = (size_t) snprintf(list, 64, "sha256=%02x, ", data[0]);

    memcpy(list + n, "sha256=", 7);
    n += 7;

    for (i = 0; i < NGX_WEBPUBSUB_SHA256_LEN; i++) {
        n += (size_t) snprintf(list + n, 3, "%02X", mac[i]);
    }

    if (!ngx_webpubsub_signature_match((unsigned char *) list, n, mac)) {
        abort();
    }

    return 0;
}
