
/*
 * libFuzzer target: the answers of remote services, as they came, to the
 * parsers of ngx_webpubsub_reply.c.  A token answer is accepted or refused
 * with its one reason.  A page measured, then written into a buffer of
 * exactly its size (ASan sees any overrun), must give the same counts and
 * bytes as the glue's former way (the value array through json_dumps,
 * brackets cut off), must not be written into a buffer one byte short,
 * and its items must read back as the same page.
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ngx_webpubsub_reply.h"


static unsigned char *
fit(size_t len)
{
    unsigned char  *p;

    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }

    return p;
}


static int
same(const ngx_webpubsub_page_t *a, const ngx_webpubsub_page_t *b)
{
    return a->items == b->items && a->items_len == b->items_len
           && a->link == b->link && a->link_len == b->link_len;
}


/* the items as the module joined them before they moved into the core */

static void
former_way(const unsigned char *data, size_t size,
    const ngx_webpubsub_page_t *page, const unsigned char *items)
{
    char          *text;
    size_t         n;
    json_t        *root, *value, *link;
    json_error_t   err;

    root = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                      &err);
    if (root == NULL) {
        abort();
    }

    value = json_object_get(root, "value");
    link = json_object_get(root, "nextLink");

    if (json_array_size(value) != page->items
        || (json_is_string(link) != (page->link == 1)))
    {
        abort();
    }

    if (page->items) {
        text = json_dumps(value, JSON_COMPACT);
        if (text == NULL) {
            abort();
        }

        n = strlen(text) - 2;

        if (n != page->items_len || memcmp(text + 1, items, n) != 0) {
            abort();
        }

        free(text);

    } else if (page->items_len != 0) {
        abort();
    }

    if (page->link
        && (json_string_length(link) != page->link_len
            || memcmp(json_string_value(link), items + page->items_len,
                      page->link_len) != 0))
    {
        abort();
    }

    json_decref(root);
}


/* {"value":[items]} is a page of the same items, encoded the same */

static void
read_back(const ngx_webpubsub_page_t *page, const unsigned char *items)
{
    size_t                 len;
    const char            *rv;
    unsigned char         *body, *again;
    ngx_webpubsub_page_t   p2;

    len = sizeof("{\"value\":[]}") - 1 + page->items_len;
    body = fit(len);

    memcpy(body, "{\"value\":[", 10);
    memcpy(body + 10, items, page->items_len);
    memcpy(body + 10 + page->items_len, "]}", 2);

    again = fit(page->items_len);

    rv = ngx_webpubsub_reply_page(body, len, &p2, again, page->items_len);

    if (rv != NULL || !p2.written || p2.items != page->items
        || p2.items_len != page->items_len || p2.link
        || memcmp(again, items, page->items_len) != 0)
    {
        abort();
    }

    free(again);
    free(body);
}


int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    size_t                 total;
    const char            *rv, *token;
    unsigned char         *buf;
    ngx_webpubsub_page_t   page, page2;

    token = ngx_webpubsub_reply_token(data, size);

    if (token != NULL
        && strcmp(token, "the service's token response is not "
                         "{\"token\": string}") != 0)
    {
        abort();
    }

    /* the value is taken only from what is a {"token": string} */

    buf = malloc(size + 1);
    if (buf == NULL) {
        return 0;
    }

    rv = ngx_webpubsub_reply_token_value(data, size, buf, size + 1, &total);

    if (rv == NULL && (token != NULL || total == 0 || total > size)) {
        abort();
    }

    free(buf);

    rv = ngx_webpubsub_reply_page(data, size, &page, NULL, 0);

    if (rv != NULL) {
        if (page.items || page.items_len || page.link || page.link_len
            || page.written)
        {
            abort();
        }

        return 0;
    }

    total = page.items_len + page.link_len;

    if (page.written != (total == 0)) {
        abort();
    }

    /* exactly the size it asked for */

    buf = fit(total);

    rv = ngx_webpubsub_reply_page(data, size, &page2, buf, total);

    if (rv != NULL || !page2.written || !same(&page, &page2)) {
        abort();
    }

    former_way(data, size, &page2, buf);
    read_back(&page2, buf);

    free(buf);

    /* one byte short: measured, not written */

    if (total > 0) {
        buf = fit(total - 1);

        rv = ngx_webpubsub_reply_page(data, size, &page2, buf, total - 1);

        if (rv != NULL || page2.written || !same(&page, &page2)) {
            abort();
        }

        free(buf);
    }

    return 0;
}
