
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * Slots of one shared memory zone that nginx fills itself: an Entra ID
 * access token per credential, the signing keys of a tenant.  A request
 * that finds its slot valid copies the data and goes on.  One that finds
 * it due claims the fetch for every worker and makes it, as an in-memory
 * subrequest to the internal location the operator named (so that TLS,
 * timeouts and resolvers are the proxy module's, and no call blocks);
 * meanwhile the others use the still-valid data or wait for the fetch,
 * polling the slot.  A secret (a header, a form body) goes into the
 * subrequest only once it is in that location, as a REST token does.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_module.h"
#include "ngx_http_webpubsub_fetch.h"
#include "ngx_http_webpubsub_status.h"


/*
 * A claim on a fetch lapses after this long, should its worker die: more
 * than proxy_read_timeout's default, so that a slow endpoint does not get
 * a second fetch while the first still runs.
 */
#define NGX_HTTP_WEBPUBSUB_FETCH_CLAIM    65

/* waiters look at the slot this often (ms) */
#define NGX_HTTP_WEBPUBSUB_FETCH_POLL     20

/* data this close to its expiry is not used: a call takes time too */
#define NGX_HTTP_WEBPUBSUB_FETCH_MARGIN   10

/* a token fetched again at the earliest this long after (s) */
#define NGX_HTTP_WEBPUBSUB_FETCH_AGAIN    5

/* a forced fetch (an unknown key id) at most this often (s) */
#define NGX_HTTP_WEBPUBSUB_FETCH_FORCED   60


typedef struct {
    uint32_t                   fingerprint;
    ngx_pid_t                  fetcher;     /* 0: nobody fetches */
    time_t                     deadline;    /* of the claim */
    time_t                     fetched;
    time_t                     expires;     /* 0: no data */
    time_t                     refresh;
    time_t                     forced;      /* the last fetch for a kid */
    ngx_uint_t                 failures;    /* counted, ever */
    ngx_uint_t                 fail_status; /* of the last one */
    size_t                     len;
    u_char                     data[1];
} ngx_http_webpubsub_slot_t;


/* the zone's own block, in its slab pool: the slots follow it */
typedef struct {
    ngx_uint_t                 nslots;
    size_t                     size;
} ngx_http_webpubsub_zone_t;


typedef struct {
    ngx_array_t                fetches;     /* of ..._fetch_t * */
    ngx_shm_zone_t            *zone;
    ngx_slab_pool_t           *shpool;     /* its mutex guards the slots */
    ngx_http_webpubsub_zone_t *sh;
    size_t                     size;       /* of sh and the slots */
    ngx_uint_t                *offsets;     /* of each slot in the zone */
} ngx_http_webpubsub_fetch_conf_t;


static ngx_http_webpubsub_fetch_conf_t *ngx_http_webpubsub_fetch_conf(
    ngx_conf_t *cf);
static ngx_int_t ngx_http_webpubsub_fetch_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_webpubsub_slot_t *ngx_http_webpubsub_fetch_slot(
    ngx_http_webpubsub_fetch_conf_t *fcf, ngx_uint_t index);
static ngx_int_t ngx_http_webpubsub_fetch_start(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_ctx_t *fctx);
static ngx_int_t ngx_http_webpubsub_fetch_wait(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_ctx_t *fctx);
static void ngx_http_webpubsub_fetch_tick(ngx_event_t *ev);
static void ngx_http_webpubsub_fetch_cleanup(void *data);
static void ngx_http_webpubsub_fetch_abandon(void *data);
static ngx_int_t ngx_http_webpubsub_fetch_sr_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_webpubsub_fetch_resume(ngx_http_request_t *r);
static void ngx_http_webpubsub_fetch_result(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_ctx_t *fctx);
static void ngx_http_webpubsub_fetch_release(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_ctx_t *fctx, ngx_uint_t status,
    ngx_uint_t failure, const char *reason, ngx_uint_t endpoint);
static ngx_int_t ngx_http_webpubsub_fetch_check_route(ngx_http_request_t *sr,
    ngx_http_webpubsub_fetch_ctx_t *fctx);
static ngx_int_t ngx_http_webpubsub_fetch_check_proxy(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_http_webpubsub_fetch_ctx_t *fctx);
static ngx_int_t ngx_http_webpubsub_fetch_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_body_filter_pt  ngx_http_next_body_filter;


/*
 * A slot for what identity describes (a credential and its scope, a
 * tenant's keys): the same description keeps its data across a reload.
 */

ngx_http_webpubsub_fetch_t *
ngx_http_webpubsub_fetch_add(ngx_conf_t *cf, size_t size, ngx_str_t *identity)
{
    ngx_uint_t                        i;
    ngx_http_webpubsub_fetch_t       *f, **fp;
    ngx_http_webpubsub_fetch_conf_t  *fcf;

    fcf = ngx_http_webpubsub_fetch_conf(cf);
    if (fcf == NULL) {
        return NULL;
    }

    /* the same identity on several levels: one slot, one fetch */

    fp = fcf->fetches.elts;

    for (i = 0; i < fcf->fetches.nelts; i++) {
        if (fp[i]->size == size && fp[i]->identity.len == identity->len
            && ngx_memcmp(fp[i]->identity.data, identity->data,
                          identity->len) == 0)
        {
            return fp[i];
        }
    }

    f = ngx_pcalloc(cf->pool, sizeof(ngx_http_webpubsub_fetch_t));
    if (f == NULL) {
        return NULL;
    }

    fp = ngx_array_push(&fcf->fetches);
    if (fp == NULL) {
        return NULL;
    }

    *fp = f;

    f->index = fcf->fetches.nelts - 1;
    f->size = size;
    f->identity = *identity;
    f->fingerprint = ngx_crc32_long(identity->data, identity->len)
                     ^ (uint32_t) size;
    f->file = cf->conf_file->file.name.data;
    f->line = cf->conf_file->line;

    return f;
}


/* the registry of this configuration, made on first use */

static ngx_http_webpubsub_fetch_conf_t *
ngx_http_webpubsub_fetch_conf(ngx_conf_t *cf)
{
    ngx_http_webpubsub_fetch_conf_t  *fcf;

    fcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webpubsub_module);

    if (fcf->fetches.elts == NULL
        && ngx_array_init(&fcf->fetches, cf->pool, 4,
                          sizeof(ngx_http_webpubsub_fetch_t *))
           != NGX_OK)
    {
        return NULL;
    }

    return fcf;
}


void *
ngx_http_webpubsub_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_webpubsub_fetch_conf_t));
}


/* postconfiguration: whether any location fetches, by then all known */

ngx_uint_t
ngx_http_webpubsub_fetch_used(ngx_conf_t *cf)
{
    ngx_http_webpubsub_fetch_conf_t  *fcf;

    fcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webpubsub_module);

    return fcf->fetches.nelts != 0;
}


/* postconfiguration: the zone, sized for the slots configured */

ngx_int_t
ngx_http_webpubsub_fetch_init(ngx_conf_t *cf)
{
    size_t                            size;
    uint32_t                          crc;
    ngx_str_t                         name;
    ngx_uint_t                        i;
    ngx_http_webpubsub_fetch_t      **f;
    ngx_http_webpubsub_fetch_conf_t  *fcf;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_webpubsub_fetch_body_filter;

    fcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webpubsub_module);

    if (fcf->fetches.nelts == 0) {
        return NGX_OK;
    }

    fcf->offsets = ngx_palloc(cf->pool,
                              fcf->fetches.nelts * sizeof(ngx_uint_t));
    if (fcf->offsets == NULL) {
        return NGX_ERROR;
    }

    f = fcf->fetches.elts;
    size = ngx_align(sizeof(ngx_http_webpubsub_zone_t), 64);

    for (i = 0; i < fcf->fetches.nelts; i++) {
        fcf->offsets[i] = size;
        size += ngx_align(offsetof(ngx_http_webpubsub_slot_t, data)
                          + f[i]->size, 64);
    }

    fcf->size = size;

    /* nginx puts a slab pool at the start of every zone: room for it */
    size = ngx_align(size, ngx_pagesize) + 8 * ngx_pagesize;

    /*
     * The zone is named after what its slots hold: a reload that keeps
     * them keeps the zone and its data, any other gets a zone of its own,
     * so that the old workers, which go on using the old zone until they
     * exit, never share a slot with the new ones.
     */

    ngx_crc32_init(crc);

    for (i = 0; i < fcf->fetches.nelts; i++) {
        ngx_crc32_update(&crc, f[i]->identity.data, f[i]->identity.len);
        ngx_crc32_update(&crc, (u_char *) &f[i]->size, sizeof(size_t));
    }

    ngx_crc32_final(crc);

    name.data = ngx_pnalloc(cf->pool, sizeof("webpubsub_fetched_") + 8);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    name.len = ngx_sprintf(name.data, "webpubsub_fetched_%08xD", crc)
               - name.data;

    fcf->zone = ngx_shared_memory_add(cf, &name, size,
                                      &ngx_http_webpubsub_module);
    if (fcf->zone == NULL) {
        return NGX_ERROR;
    }

    fcf->zone->init = ngx_http_webpubsub_fetch_init_zone;
    fcf->zone->data = fcf;

    return NGX_OK;
}


/*
 * In the master, before the workers start.  A zone of the same size
 * comes from the configuration before a reload: a slot that describes
 * the same thing keeps its data, the others start empty.
 */

static ngx_int_t
ngx_http_webpubsub_fetch_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_webpubsub_fetch_conf_t  *fcf = shm_zone->data;

    ngx_uint_t                   i, reused;
    ngx_slab_pool_t             *shpool;
    ngx_http_webpubsub_slot_t   *slot;
    ngx_http_webpubsub_fetch_t **f;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    fcf->shpool = shpool;

    /*
     * A zone kept from the configuration before (same name, so the same
     * slots, and the same size) holds its block already; the master made
     * the slab pool.
     */

    fcf->sh = (data != NULL || shm_zone->shm.exists) ? shpool->data : NULL;
    reused = 1;

    if (fcf->sh == NULL || fcf->sh->size != fcf->size
        || fcf->sh->nslots != fcf->fetches.nelts)
    {
        if (fcf->sh != NULL) {
            ngx_slab_free(shpool, fcf->sh);
        }

        fcf->sh = ngx_slab_alloc(shpool, fcf->size);
        if (fcf->sh == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(fcf->sh, sizeof(ngx_http_webpubsub_zone_t));
        fcf->sh->nslots = fcf->fetches.nelts;
        fcf->sh->size = fcf->size;
        shpool->data = fcf->sh;
        reused = 0;
    }

    f = fcf->fetches.elts;

    for (i = 0; i < fcf->fetches.nelts; i++) {
        slot = ngx_http_webpubsub_fetch_slot(fcf, i);

        if (!reused || slot->fingerprint != f[i]->fingerprint) {
            ngx_memzero(slot, offsetof(ngx_http_webpubsub_slot_t, data));
            slot->fingerprint = f[i]->fingerprint;
        }

        /* a fetch of the old workers answers them, not the new ones */
        slot->fetcher = 0;
    }

    return NGX_OK;
}


static ngx_http_webpubsub_slot_t *
ngx_http_webpubsub_fetch_slot(ngx_http_webpubsub_fetch_conf_t *fcf,
    ngx_uint_t index)
{
    return (ngx_http_webpubsub_slot_t *)
               ((u_char *) fcf->sh + fcf->offsets[index]);
}


/*
 * The slot's data for r, copied to r's pool: NGX_OK; NGX_AGAIN, when r
 * waits for a fetch and done(r) is called once it may ask again; an
 * error status (502, 504) once a fetch it waited for failed, with the
 * reason in the fetch context; or NGX_ERROR.  force asks for new data
 * (a key id not in the keys), at most once a minute.
 */

ngx_int_t
ngx_http_webpubsub_fetch(ngx_http_request_t *r, ngx_http_webpubsub_fetch_t *f,
    ngx_str_t *pass, ngx_uint_t force, ngx_str_t *out,
    ngx_http_webpubsub_fetch_done_pt done)
{
    time_t                            now;
    ngx_int_t                         rc;
    ngx_uint_t                        usable, due, busy, failure;
    ngx_pool_cleanup_t               *cln;
    ngx_http_request_t               *pr;
    ngx_http_webpubsub_ctx_t         *ctx;
    ngx_http_webpubsub_slot_t        *slot;
    ngx_http_webpubsub_fetch_ctx_t   *fctx;
    ngx_http_webpubsub_fetch_conf_t  *fcf;

    fcf = ngx_http_get_module_main_conf(r, ngx_http_webpubsub_module);

    /*
     * Under a background request (mirror) a waited subrequest is never
     * made active, and the connection would never be closed.
     */

    for (pr = r; pr; pr = pr->parent) {
        if (pr->background) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "webpubsub: the %s of %s in %s:%ui cannot be "
                          "fetched for a background subrequest (mirror)",
                          f->what, f->directive, f->file, f->line);
            return NGX_ERROR;
        }
    }

    ctx = ngx_http_webpubsub_get_ctx(r);
    if (ctx == NULL || fcf->sh == NULL) {
        return NGX_ERROR;
    }

    fctx = ctx->fetch;

    if (fctx == NULL || fctx->fetch != f) {
        fctx = ngx_pcalloc(r->pool, sizeof(ngx_http_webpubsub_fetch_ctx_t));
        if (fctx == NULL) {
            return NGX_ERROR;
        }

        ctx->fetch = fctx;
        fctx->fetch = f;
        fctx->waited = ngx_time();
    }

    fctx->pass = *pass;
    fctx->done = done;

    slot = ngx_http_webpubsub_fetch_slot(fcf, f->index);
    now = ngx_time();

    ngx_shmtx_lock(&fcf->shpool->mutex);

    if (!fctx->counted) {
        /* failures before this request came are not its own */
        fctx->failures = slot->failures;
        fctx->counted = 1;
    }

    usable = (slot->expires - NGX_HTTP_WEBPUBSUB_FETCH_MARGIN > now);
    busy = (slot->fetcher != 0 && slot->deadline > now);
    due = (!usable || now >= slot->refresh
           || (force && now - slot->forced
                        >= NGX_HTTP_WEBPUBSUB_FETCH_FORCED));

    /*
     * A request fetches once: a token that comes with its refresh due
     * already (less than 5 minutes left) serves it as it is.
     */

    if (usable && (!due || busy || fctx->status || fctx->claimed
                   || fctx->fetched))
    {
        out->len = slot->len;
        /* aligned: the keys are structs */
        out->data = ngx_palloc(r->pool, slot->len);

        if (out->data != NULL) {
            ngx_memcpy(out->data, slot->data, slot->len);
        }

        ngx_shmtx_unlock(&fcf->shpool->mutex);

        return out->data ? NGX_OK : NGX_ERROR;
    }

    if (fctx->status) {
        /* this request's own fetch failed, and nothing valid is left */
        ngx_shmtx_unlock(&fcf->shpool->mutex);
        return fctx->status;
    }

    if (fctx->fetched) {
        /* what this request fetched expired at once: no loop */
        ngx_shmtx_unlock(&fcf->shpool->mutex);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: the %s of %s in %s:%ui expires within "
                      "%d s of its fetch: check the host's clock",
                      f->what, f->directive, f->file, f->line,
                      NGX_HTTP_WEBPUBSUB_FETCH_MARGIN);

        fctx->status = NGX_HTTP_BAD_GATEWAY;
        ngx_str_set(&fctx->reason, "failed (see error log)");
        return fctx->status;
    }

    if (busy) {
        if (slot->failures != fctx->failures && !usable) {
            fctx->status = slot->fail_status;
            ngx_str_set(&fctx->reason, "failed (see error log)");
        }

        ngx_shmtx_unlock(&fcf->shpool->mutex);

        if (fctx->status) {
            return fctx->status;
        }

        return (ngx_http_webpubsub_fetch_wait(r, fctx) == NGX_OK)
               ? NGX_AGAIN : NGX_ERROR;
    }

    if (!usable && slot->failures != fctx->failures) {
        /* the fetch this request waited for failed in another worker */
        fctx->status = slot->fail_status;
        ngx_shmtx_unlock(&fcf->shpool->mutex);

        ngx_str_set(&fctx->reason, "failed (see error log)");
        return fctx->status;
    }

    slot->fetcher = ngx_pid;
    slot->deadline = now + NGX_HTTP_WEBPUBSUB_FETCH_CLAIM;

    if (force && usable && now < slot->refresh) {
        /* only for a key id it lacks: at most once a minute */
        slot->forced = now;
    }

    ngx_shmtx_unlock(&fcf->shpool->mutex);

    fctx->claimed = 1;

    if (!fctx->cleanup) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            ngx_http_webpubsub_fetch_release(r, fctx,
                                             NGX_HTTP_INTERNAL_SERVER_ERROR,
                                             NGX_HTTP_WEBPUBSUB_IDF_INTERNAL,
                                             "out of memory", 0);
            return NGX_ERROR;
        }

        cln->handler = ngx_http_webpubsub_fetch_abandon;
        cln->data = fctx;
        fctx->cleanup = 1;
        fctx->request = r;
    }

    rc = ngx_http_webpubsub_fetch_start(r, fctx);

    if (rc != NGX_OK) {
        /* a file or a signature it needs (logged), or memory */
        failure = (rc == NGX_DECLINED) ? NGX_HTTP_WEBPUBSUB_IDF_MISCONFIGURED
                                       : NGX_HTTP_WEBPUBSUB_IDF_INTERNAL;
        ngx_http_webpubsub_fetch_release(r, fctx, NGX_HTTP_BAD_GATEWAY,
                                         failure,
                                         "its request could not be made",
                                         0);
        return fctx->status;
    }

    return NGX_AGAIN;
}


/* the subrequest: the secret parts wait for the location check */

static ngx_int_t
ngx_http_webpubsub_fetch_start(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_ctx_t *fctx)
{
    u_char                       *p;
    ngx_str_t                     args;
    ngx_list_t                   *headers;
    ngx_table_elt_t              *h;
    ngx_http_request_t           *sr;
    ngx_http_variable_value_t    *variables;
    ngx_http_core_main_conf_t    *cmcf;
    ngx_http_post_subrequest_t   *ps;
    ngx_http_webpubsub_fetch_t   *f;

    f = fctx->fetch;

    ngx_memzero(&fctx->req, sizeof(ngx_http_webpubsub_fetch_req_t));

    if (f->build(r, f, &fctx->req) != NGX_OK) {
        /* a token file or certificate it could not read (logged) */
        return NGX_DECLINED;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    variables = ngx_pcalloc(r->pool, cmcf->variables.nelts
                                     * sizeof(ngx_http_variable_value_t));
    if (variables == NULL) {
        return NGX_ERROR;
    }

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_webpubsub_fetch_sr_done;
    ps->data = fctx;

    p = ngx_strlchr(fctx->req.uri.data, fctx->req.uri.data + fctx->req.uri.len,
                    '?');

    if (p != NULL) {
        args.data = p + 1;
        args.len = fctx->req.uri.data + fctx->req.uri.len - p - 1;

    } else {
        ngx_str_null(&args);
    }

    if (ngx_http_subrequest(r, &fctx->pass, &args, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    fctx->sr = sr;
    fctx->done_sr = 0;
    fctx->routed = 0;
    fctx->misrouted = 0;
    fctx->answered = 0;
    fctx->capture.complete = 0;
    fctx->capture.too_big = 0;
    fctx->capture.out = NULL;

    sr->method = fctx->req.method;
    sr->method_name = fctx->req.method_name;
    sr->unparsed_uri = fctx->req.uri;
    sr->valid_unparsed_uri = 1;

    /* headers of its own: none of the caller's may reach the endpoint */

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));
    sr->headers_in.content_length_n = fctx->req.body.len
                                      ? (off_t) fctx->req.body.len : -1;
    sr->headers_in.keep_alive_n = -1;

    headers = &sr->headers_in.headers;

    if (ngx_list_init(headers, r->pool, 4, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (fctx->req.header.len) {
        h = ngx_list_push(headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_webpubsub_set_header(r->pool, h, &fctx->req.header,
                                          &fctx->req.header_value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (fctx->req.body.len) {
        static ngx_str_t  type = ngx_string("Content-Type");
        static ngx_str_t  form =
            ngx_string("application/x-www-form-urlencoded;charset=utf-8");

        h = ngx_list_push(headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_webpubsub_set_header(r->pool, h, &type, &form)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    sr->request_body = NULL;
    sr->discard_body = 0;
    sr->variables = variables;

    r->write_event_handler = ngx_http_webpubsub_fetch_resume;

    return NGX_OK;
}


/* a fetch is under way in another request: look again soon */

static ngx_int_t
ngx_http_webpubsub_fetch_wait(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_ctx_t *fctx)
{
    ngx_pool_cleanup_t  *cln;

    if (fctx->wait == NULL) {
        fctx->wait = ngx_pcalloc(r->pool, sizeof(ngx_event_t));
        if (fctx->wait == NULL) {
            return NGX_ERROR;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        fctx->wait->handler = ngx_http_webpubsub_fetch_tick;
        fctx->wait->data = r;
        fctx->wait->log = r->connection->log;

        cln->handler = ngx_http_webpubsub_fetch_cleanup;
        cln->data = fctx->wait;
    }

    ngx_add_timer(fctx->wait, NGX_HTTP_WEBPUBSUB_FETCH_POLL);

    return NGX_OK;
}


static void
ngx_http_webpubsub_fetch_tick(ngx_event_t *ev)
{
    ngx_connection_t                *c;
    ngx_http_request_t              *r;
    ngx_http_webpubsub_ctx_t        *ctx;
    ngx_http_webpubsub_fetch_ctx_t  *fctx;

    r = ev->data;
    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);

    if (ctx == NULL || ctx->fetch == NULL) {
        /* nothing to go on with: not a request left hanging */
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        ngx_http_run_posted_requests(c);
        return;
    }

    fctx = ctx->fetch;

    if (ngx_time() - fctx->waited > NGX_HTTP_WEBPUBSUB_FETCH_CLAIM + 5) {
        fctx->status = NGX_HTTP_GATEWAY_TIME_OUT;
        ngx_str_set(&fctx->reason, "did not answer in time");
    }

    fctx->done(r);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_webpubsub_fetch_cleanup(void *data)
{
    ngx_event_t  *ev = data;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }
}


/*
 * A request that ends while its fetch is under way (its client went
 * away) gives the claim up, so that the next request fetches at once
 * rather than after the claim lapses.
 */

static void
ngx_http_webpubsub_fetch_abandon(void *data)
{
    ngx_http_webpubsub_fetch_ctx_t  *fctx = data;

    ngx_http_webpubsub_slot_t        *slot;
    ngx_http_webpubsub_fetch_conf_t  *fcf;

    if (!fctx->claimed) {
        return;
    }

    fcf = ngx_http_get_module_main_conf(fctx->request,
                                        ngx_http_webpubsub_module);
    slot = ngx_http_webpubsub_fetch_slot(fcf, fctx->fetch->index);

    ngx_shmtx_lock(&fcf->shpool->mutex);

    if (slot->fetcher == ngx_pid) {
        slot->fetcher = 0;
    }

    ngx_shmtx_unlock(&fcf->shpool->mutex);

    fctx->claimed = 0;
}


static ngx_int_t
ngx_http_webpubsub_fetch_sr_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_webpubsub_fetch_ctx_t  *fctx = data;

    if (fctx->done_sr || fctx->sr != sr || rc == NGX_AGAIN) {
        return (rc == NGX_ERROR && !sr->connection->error) ? NGX_OK : rc;
    }

    fctx->done_sr = 1;
    fctx->rc = rc;
    fctx->answered = sr->header_sent;
    fctx->answer = sr->headers_out.status;

    /* the caller is still there: it gets a 502, not a dropped line */
    return (rc == NGX_ERROR && !sr->connection->error) ? NGX_OK : rc;
}


static void
ngx_http_webpubsub_fetch_resume(ngx_http_request_t *r)
{
    ngx_http_webpubsub_ctx_t        *ctx;
    ngx_http_webpubsub_fetch_ctx_t  *fctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);
    fctx = (ctx != NULL) ? ctx->fetch : NULL;

    if (fctx == NULL || fctx->sr == NULL || !fctx->done_sr) {
        return;
    }

    ngx_http_webpubsub_fetch_result(r, fctx);

    fctx->done(r);
}


/* the answer, checked and parsed into the slot, or the failure logged */

static void
ngx_http_webpubsub_fetch_result(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_ctx_t *fctx)
{
    u_char                           *body, *buf;
    size_t                            len, n;
    ngx_buf_t                        *out;
    time_t                            now, expires, refresh;
    const char                       *err;
    ngx_http_request_t               *sr;
    ngx_http_webpubsub_fetch_t       *f;
    ngx_http_webpubsub_slot_t        *slot;
    ngx_http_webpubsub_fetch_conf_t  *fcf;

    sr = fctx->sr;
    fctx->sr = NULL;
    f = fctx->fetch;

    if (fctx->misrouted || !fctx->routed
        || ngx_http_webpubsub_fetch_check_proxy(r, sr, fctx) != NGX_OK)
    {
        ngx_http_webpubsub_fetch_release(r, fctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NGX_HTTP_WEBPUBSUB_IDF_MISCONFIGURED,
                                         NULL, 0);
        return;
    }

    if (!fctx->answered) {
        if (fctx->rc == NGX_HTTP_GATEWAY_TIME_OUT) {
            ngx_http_webpubsub_fetch_release(r, fctx,
                                             NGX_HTTP_GATEWAY_TIME_OUT,
                                             NGX_HTTP_WEBPUBSUB_IDF_TIMEOUT,
                                             "did not answer in time", 1);
            return;
        }

        ngx_http_webpubsub_fetch_release(r, fctx, NGX_HTTP_BAD_GATEWAY,
                                         NGX_HTTP_WEBPUBSUB_IDF_UNREACHABLE,
                                         "gave no valid response", 1);
        return;
    }

    if (fctx->capture.too_big) {
        ngx_http_webpubsub_fetch_release(r, fctx, NGX_HTTP_BAD_GATEWAY,
                                         NGX_HTTP_WEBPUBSUB_IDF_BAD_RESPONSE,
                                         "answered more than "
                                         "subrequest_output_buffer_size", 1);
        return;
    }

    out = fctx->capture.out;
    body = out ? out->pos : NULL;
    len = out ? (size_t) (out->last - out->pos) : 0;

    if (fctx->rc == NGX_ERROR || (sr->upstream && !fctx->capture.complete)
        || (sr->headers_out.content_length_n >= 0
            && (off_t) len != sr->headers_out.content_length_n))
    {
        ngx_http_webpubsub_fetch_release(r, fctx, NGX_HTTP_BAD_GATEWAY,
                                         NGX_HTTP_WEBPUBSUB_IDF_BAD_RESPONSE,
                                         "answered a response cut short", 1);
        return;
    }

    if (fctx->answer != NGX_HTTP_OK) {
        u_char  status[sizeof("answered 999")];

        ngx_sprintf(status, "answered %03ui%Z",
                    ngx_min(fctx->answer, (ngx_uint_t) 999));

        ngx_http_webpubsub_fetch_release(r, fctx, NGX_HTTP_BAD_GATEWAY,
                                         NGX_HTTP_WEBPUBSUB_IDF_BAD_STATUS,
                                         (char *) status, 1);
        return;
    }

    buf = ngx_palloc(r->pool, f->size);
    if (buf == NULL) {
        ngx_http_webpubsub_fetch_release(r, fctx,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         NGX_HTTP_WEBPUBSUB_IDF_INTERNAL,
                                         "out of memory", 0);
        return;
    }

    now = ngx_time();

    err = f->parse(f, body, len, now, buf, f->size, &n, &expires, &refresh);

    if (err != NULL) {
        ngx_http_webpubsub_fetch_release(r, fctx, NGX_HTTP_BAD_GATEWAY,
                                         NGX_HTTP_WEBPUBSUB_IDF_BAD_RESPONSE,
                                         err, 0);
        return;
    }

    /*
     * Not again at once for every request when the endpoint hands out a
     * token with its refresh due (a cached one near its end).
     */

    if (refresh < now + NGX_HTTP_WEBPUBSUB_FETCH_AGAIN) {
        refresh = ngx_min(now + NGX_HTTP_WEBPUBSUB_FETCH_AGAIN, expires);
    }

    fcf = ngx_http_get_module_main_conf(r, ngx_http_webpubsub_module);
    slot = ngx_http_webpubsub_fetch_slot(fcf, f->index);

    ngx_shmtx_lock(&fcf->shpool->mutex);

    ngx_memcpy(slot->data, buf, n);
    slot->len = n;
    slot->fetched = now;
    slot->expires = expires;
    slot->refresh = refresh;

    if (slot->fetcher == ngx_pid) {
        slot->fetcher = 0;
    }

    ngx_shmtx_unlock(&fcf->shpool->mutex);

    ngx_explicit_memzero(buf, n);
    fctx->claimed = 0;
    fctx->fetched = 1;

    ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_ID_FETCHES + f->counter);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "webpubsub: fetched the %s of %s in %s:%ui, valid for "
                  "%T s", f->what, f->directive, f->file, f->line,
                  expires - now);
}


/* a failed fetch: the claim goes, waiters see the failure */

static void
ngx_http_webpubsub_fetch_release(ngx_http_request_t *r,
    ngx_http_webpubsub_fetch_ctx_t *fctx, ngx_uint_t status,
    ngx_uint_t failure, const char *reason, ngx_uint_t endpoint)
{
    ngx_http_webpubsub_fetch_t       *f;
    ngx_http_webpubsub_slot_t        *slot;
    ngx_http_webpubsub_fetch_conf_t  *fcf;

    f = fctx->fetch;

    /* endpoint: reason says what the endpoint did, else it is a sentence */

    if (reason != NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: no %s for %s in %s:%ui, through location "
                      "\"%V\": %s%s%s%s", f->what, f->directive, f->file,
                      f->line, &fctx->pass, endpoint ? "the " : "",
                      endpoint ? f->from : "", endpoint ? " " : "", reason);
    }

    fcf = ngx_http_get_module_main_conf(r, ngx_http_webpubsub_module);
    slot = ngx_http_webpubsub_fetch_slot(fcf, f->index);

    ngx_shmtx_lock(&fcf->shpool->mutex);

    if (slot->fetcher == ngx_pid) {
        slot->fetcher = 0;
    }

    slot->failures++;
    slot->fail_status = status;

    ngx_shmtx_unlock(&fcf->shpool->mutex);

    ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_ID_FETCHES + f->counter);
    ngx_http_webpubsub_count_fetch_failure(f->counter, failure);

    fctx->claimed = 0;
    fctx->status = status;

    if (status == NGX_HTTP_GATEWAY_TIME_OUT) {
        ngx_str_set(&fctx->reason, "timed out");

    } else if (status == NGX_HTTP_INTERNAL_SERVER_ERROR) {
        ngx_str_set(&fctx->reason, "misconfigured (see error log)");

    } else {
        ngx_str_set(&fctx->reason, "failed (see error log)");
    }
}


/*
 * The precontent phase of a fetch subrequest: as for a REST call, the
 * location must be the named internal one, and only then do the secret
 * header and the body go in.
 */

ngx_int_t
ngx_http_webpubsub_fetch_route(ngx_http_request_t *sr)
{
    ngx_table_elt_t                 *h;
    ngx_http_request_body_t         *rb;
    ngx_http_webpubsub_fetch_ctx_t  *fctx;

    if (sr->post_subrequest == NULL
        || sr->post_subrequest->handler != ngx_http_webpubsub_fetch_sr_done)
    {
        return NGX_DECLINED;
    }

    fctx = sr->post_subrequest->data;

    if (fctx->sr != sr || fctx->done_sr) {
        return NGX_DECLINED;
    }

    if (ngx_http_webpubsub_fetch_check_route(sr, fctx) != NGX_OK) {
        fctx->routed = 0;
        fctx->misrouted = 1;
        return NGX_ERROR;
    }

    if (fctx->routed) {
        return NGX_DECLINED;
    }

    fctx->routed = 1;
    fctx->routed_conf = sr->loc_conf;

    if (fctx->req.secret.len) {
        h = ngx_list_push(&sr->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_webpubsub_set_header(sr->pool, h, &fctx->req.secret,
                                          &fctx->req.secret_value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (fctx->req.body.len) {
        rb = ngx_http_webpubsub_body(sr->pool, &fctx->req.body);
        if (rb == NULL) {
            return NGX_ERROR;
        }

        sr->request_body = rb;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_webpubsub_fetch_check_route(ngx_http_request_t *sr,
    ngx_http_webpubsub_fetch_ctx_t *fctx)
{
    const char                 *fix;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_webpubsub_fetch_t *f;

    clcf = ngx_http_get_module_loc_conf(sr, ngx_http_core_module);
    f = fctx->fetch;

    if (fctx->routed) {
        if (sr->loc_conf == fctx->routed_conf) {
            return NGX_OK;
        }

        fix = "it sent the fetch on to another location: remove the "
              "error_page or redirect that does it";
        goto refused;
    }

#if (NGX_PCRE)
    if (clcf->regex) {
        fix = "a regex location matched it: make the location \"^~\"";
        goto refused;
    }
#endif

    if (clcf->name.len != fctx->pass.len
        || ngx_strncmp(clcf->name.data, fctx->pass.data, fctx->pass.len)
           != 0)
    {
        fix = "another location matched it: add the location to this "
              "server";
        goto refused;
    }

    if (!clcf->internal) {
        fix = "it is not internal: add \"internal;\" to it";
        goto refused;
    }

    if (sr->content_handler == NULL) {
        fix = "it has no proxy_pass: add one, to the endpoint's origin";
        goto refused;
    }

    return NGX_OK;

refused:

    ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                  "webpubsub: the %s of %s in %s:%ui is fetched through "
                  "location \"%V\", but %s; nothing was sent",
                  f->what, f->directive, f->file, f->line, &fctx->pass, fix);

    return NGX_DECLINED;
}


/* the proxy there sent the method and path asked for */

static ngx_int_t
ngx_http_webpubsub_fetch_check_proxy(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_http_webpubsub_fetch_ctx_t *fctx)
{
    ngx_str_t             line;
    ngx_http_upstream_t  *u;

    u = sr->upstream;

    if (!ngx_http_webpubsub_proxied(u)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: location \"%V\" (for the %s of %s in "
                      "%s:%ui) answered without proxy_pass: make proxy_pass "
                      "its only content handler", &fctx->pass,
                      fctx->fetch->what, fctx->fetch->directive,
                      fctx->fetch->file, fctx->fetch->line);
        return NGX_DECLINED;
    }

    if (ngx_http_webpubsub_sent(u, &fctx->req.method_name, &fctx->req.uri,
                                &line)
        == NGX_OK)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "webpubsub: location \"%V\" (for the %s of %s in %s:%ui) "
                  "sent \"%V\" instead of \"%V %V\": remove the URI part "
                  "of its proxy_pass, and any rewrite there", &fctx->pass,
                  fctx->fetch->what, fctx->fetch->directive,
                  fctx->fetch->file, fctx->fetch->line, &line,
                  &fctx->req.method_name, &fctx->req.uri);

    return NGX_DECLINED;
}


/* the answer of a fetch, kept as a REST call's */

static ngx_int_t
ngx_http_webpubsub_fetch_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_webpubsub_fetch_ctx_t  *fctx;

    if (r->post_subrequest == NULL
        || r->post_subrequest->handler != ngx_http_webpubsub_fetch_sr_done)
    {
        return ngx_http_next_body_filter(r, in);
    }

    fctx = r->post_subrequest->data;

    return ngx_http_webpubsub_capture(r, in, &fctx->capture,
                                      !fctx->done_sr && fctx->sr == r);
}


/*
 * The caller of a failed fetch: its status and a JSON reason, as "the
 * identity endpoint failed", never the endpoint's own words.
 */

ngx_int_t
ngx_http_webpubsub_fetch_fail(ngx_http_request_t *r)
{
    u_char                          *p;
    ngx_str_t                        reason;
    ngx_http_webpubsub_ctx_t        *ctx;
    ngx_http_webpubsub_fetch_ctx_t  *fctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);
    fctx = ctx->fetch;

    reason.len = ngx_strlen(fctx->fetch->from) + 1 + fctx->reason.len;

    p = ngx_pnalloc(r->pool, reason.len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    reason.data = p;
    ngx_sprintf(p, "%s %V", fctx->fetch->from, &fctx->reason);

    return ngx_http_webpubsub_send_error(r, fctx->status, &reason);
}
