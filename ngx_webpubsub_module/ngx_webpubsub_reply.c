
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * What remote services answer, read without nginx (see
 * ngx_webpubsub_reply.h for why every such answer is parsed here).
 */


#include <string.h>

#include <jansson.h>

#include "ngx_webpubsub_reply.h"


static json_t *ngx_webpubsub_reply_load(const unsigned char *body,
    size_t len);


static const char  ngx_webpubsub_reply_not_token[] =
    "the service's token response is not {\"token\": string}";
static const char  ngx_webpubsub_reply_not_page[] =
    "the service's page is not {\"value\": [...], \"nextLink\": ...}";
static const char  ngx_webpubsub_reply_not_object[] =
    "the service's page has a connection that is not an object";
static const char  ngx_webpubsub_reply_no_memory[] = "out of memory";


/*
 * The answer as a JSON object or array, or NULL: too large, empty (which
 * jansson would be given a NULL pointer for), not JSON, or with one key
 * twice.  The caller frees it.
 */

static json_t *
ngx_webpubsub_reply_load(const unsigned char *body, size_t len)
{
    json_error_t  err;

    if (body == NULL || len == 0 || len > NGX_WEBPUBSUB_REPLY_MAX) {
        return NULL;
    }

    return json_loadb((const char *) body, len, JSON_REJECT_DUPLICATES, &err);
}


const char *
ngx_webpubsub_reply_token(const unsigned char *body, size_t len)
{
    int      valid;
    json_t  *root;

    root = ngx_webpubsub_reply_load(body, len);

    valid = json_is_object(root)
            && json_is_string(json_object_get(root, "token"));

    json_decref(root);

    return valid ? NULL : ngx_webpubsub_reply_not_token;
}


const char *
ngx_webpubsub_reply_page(const unsigned char *body, size_t len,
    ngx_webpubsub_page_t *page, unsigned char *dst, size_t size)
{
    char        *out;
    size_t       i, n, off, room;
    json_t      *root, *value, *link;
    const char  *rv;

    memset(page, 0, sizeof(ngx_webpubsub_page_t));

    root = ngx_webpubsub_reply_load(body, len);

    value = json_is_object(root) ? json_object_get(root, "value") : NULL;
    link = json_is_object(root) ? json_object_get(root, "nextLink") : NULL;

    if (!json_is_array(value)
        || !(link == NULL || json_is_null(link) || json_is_string(link)))
    {
        rv = ngx_webpubsub_reply_not_page;
        goto done;
    }

    page->items = json_array_size(value);

    for (i = 0; i < page->items; i++) {
        if (!json_is_object(json_array_get(value, i))) {
            rv = ngx_webpubsub_reply_not_object;
            goto done;
        }
    }

    /*
     * Each item encoded on its own, joined by ",", is the compact array's
     * text without its brackets.  Once dst is full, items are only
     * measured: json_dumpb() gives the length it needs in any case.
     */

    off = 0;

    for (i = 0; i < page->items; i++) {
        if (i > 0) {
            if (off < size) {
                dst[off] = ',';
            }

            off++;
        }

        room = off < size ? size - off : 0;
        out = room ? (char *) dst + off : NULL;

        n = json_dumpb(json_array_get(value, i), out, room, JSON_COMPACT);
        if (n == 0) {
            rv = ngx_webpubsub_reply_no_memory;
            goto done;
        }

        off += n;
    }

    page->items_len = off;

    if (json_is_string(link)) {
        page->link = 1;
        page->link_len = json_string_length(link);
    }

    /* what fits as a whole was written whole: off only grows */

    if (page->items_len + page->link_len <= size) {
        if (page->link_len) {
            memcpy(dst + off, json_string_value(link), page->link_len);
        }

        page->written = 1;
    }

    rv = NULL;

done:

    json_decref(root);

    if (rv != NULL) {
        memset(page, 0, sizeof(ngx_webpubsub_page_t));
    }

    return rv;
}
