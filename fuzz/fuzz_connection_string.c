
/*
 * libFuzzer target: connection strings and endpoints, as nginx.conf may
 * hold them.  Besides memory errors, it checks what the parsers promise:
 * slices inside the input, and a normalised endpoint that ends in "/",
 * fits its buffer and parses again to itself.
 */


#include <stdlib.h>
#include <string.h>

#include "ngx_webpubsub_core.h"


static void
check_endpoint(const unsigned char *url, size_t len,
    const ngx_webpubsub_str_t *port)
{
    ngx_webpubsub_endpoint_t  ep, again;

    memset(&ep, 0, sizeof(ep));

    if (ngx_webpubsub_parse_endpoint(url, len, port, &ep) != NULL) {
        return;
    }

    if (ep.len == 0 || ep.len > sizeof(ep.buf) || ep.buf[ep.len - 1] != '/'
        || ep.host_start + ep.host_len > ep.len
        || ep.path_start >= ep.len || ep.buf[ep.path_start] != '/')
    {
        abort();
    }

    /* normalising is idempotent */

    memset(&again, 0, sizeof(again));

    if (ngx_webpubsub_parse_endpoint(ep.buf, ep.len, NULL, &again) != NULL
        || again.len != ep.len || memcmp(again.buf, ep.buf, ep.len) != 0)
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    size_t                     fix_len;
    unsigned char              fix[NGX_WEBPUBSUB_ENDPOINT_MAX];
    const unsigned char       *end;
    ngx_webpubsub_str_t        key;
    ngx_webpubsub_conn_str_t   cs;

    end = data + size;

    check_endpoint(data, size, NULL);

    /* the endpoint to give instead fits its buffer */

    fix_len = 0;

    if (ngx_webpubsub_endpoint_mistake(data, size, NULL, fix, &fix_len)
        != NULL && fix_len > sizeof(fix))
    {
        abort();
    }

    /* a key file's key is a part of the file */

    if (ngx_webpubsub_key_file(data, size, &key) == NULL
        && (key.data < data || key.data + key.len > end || key.len == 0))
    {
        abort();
    }

    memset(&cs, 0, sizeof(cs));

    if (ngx_webpubsub_parse_connection_string(data, size, &cs) != NULL) {
        return 0;
    }

    if (cs.endpoint.data == NULL || cs.access_key.data == NULL
        || cs.endpoint.data < data || cs.endpoint.data + cs.endpoint.len > end
        || cs.access_key.data < data
        || cs.access_key.data + cs.access_key.len > end
        || (cs.port.data
            && (cs.port.data < data || cs.port.data + cs.port.len > end)))
    {
        abort();
    }

    check_endpoint(cs.endpoint.data, cs.endpoint.len,
                   cs.port.data ? &cs.port : NULL);

    return 0;
}
