
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * Event handler gateway: the service's CloudEvents webhooks are checked
 * (abuse-protection handshake, attributes, hub, ce-signature against every
 * key) before the content phase, so that only genuine events reach the
 * upstream application.  The signature covers the connection id alone, so
 * the body is never read here: proxy_pass streams it as usual.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_module.h"
#include "ngx_http_webpubsub_status.h"


typedef struct {
    ngx_str_t                  name;      /* lower case */
    ngx_uint_t                 index;
} ngx_http_webpubsub_ce_header_t;


enum {
    NGX_HTTP_WEBPUBSUB_H_SPECVERSION = 0,
    NGX_HTTP_WEBPUBSUB_H_AWPSVERSION,
    NGX_HTTP_WEBPUBSUB_H_TYPE,
    NGX_HTTP_WEBPUBSUB_H_CONNECTION_ID,
    NGX_HTTP_WEBPUBSUB_H_HUB,
    NGX_HTTP_WEBPUBSUB_H_USER_ID,
    NGX_HTTP_WEBPUBSUB_H_EVENT_NAME,
    NGX_HTTP_WEBPUBSUB_H_ORIGIN,
    NGX_HTTP_WEBPUBSUB_H_SINGLE,           /* the ones above occur once */
    NGX_HTTP_WEBPUBSUB_H_SIGNATURE = NGX_HTTP_WEBPUBSUB_H_SINGLE
};


/* what a request's headers carry, before any of it is checked */
typedef struct {
    ngx_str_t                 *v[NGX_HTTP_WEBPUBSUB_H_SINGLE];
    ngx_table_elt_t           *sig[NGX_WEBPUBSUB_SIGNATURES_MAX];
    ngx_uint_t                 nsig;
} ngx_http_webpubsub_attrs_t;


static ngx_http_webpubsub_event_t *ngx_http_webpubsub_get_event(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_webpubsub_check_event(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_event_t *ev);
static ngx_int_t ngx_http_webpubsub_collect(ngx_http_request_t *r,
    ngx_http_webpubsub_attrs_t *attrs, ngx_http_webpubsub_event_t *ev);
static ngx_int_t ngx_http_webpubsub_check_handshake(
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_attrs_t *attrs,
    ngx_http_webpubsub_event_t *ev);
static ngx_int_t ngx_http_webpubsub_check_attributes(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_attrs_t *attrs,
    ngx_http_webpubsub_event_t *ev);
static ngx_int_t ngx_http_webpubsub_check_signature(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *connection_id,
    ngx_table_elt_t **signatures, ngx_uint_t nsignatures);
static ngx_int_t ngx_http_webpubsub_reject(ngx_http_request_t *r,
    ngx_http_webpubsub_event_t *ev);
static ngx_int_t ngx_http_webpubsub_exempt(ngx_http_request_t *r);
static ngx_int_t ngx_http_webpubsub_stray(ngx_http_request_t *r);
static void ngx_http_webpubsub_log_refusal(ngx_http_request_t *r,
    ngx_uint_t level, ngx_http_webpubsub_event_t *ev);
static void ngx_http_webpubsub_count_accepted(ngx_http_request_t *r,
    ngx_http_webpubsub_event_t *ev);
static ngx_int_t ngx_http_webpubsub_is_version(ngx_str_t *v);
static ngx_int_t ngx_http_webpubsub_header_maybe(ngx_table_elt_t *h);
static ngx_int_t ngx_http_webpubsub_header_is(ngx_table_elt_t *h,
    ngx_str_t *name);


/* by length: a header is compared with the names of its length only */
static ngx_http_webpubsub_ce_header_t  ngx_http_webpubsub_ce_headers[] = {
    { ngx_string("ce-hub"), NGX_HTTP_WEBPUBSUB_H_HUB },
    { ngx_string("ce-type"), NGX_HTTP_WEBPUBSUB_H_TYPE },
    { ngx_string("ce-userid"), NGX_HTTP_WEBPUBSUB_H_USER_ID },
    { ngx_string("ce-eventname"), NGX_HTTP_WEBPUBSUB_H_EVENT_NAME },
    { ngx_string("ce-signature"), NGX_HTTP_WEBPUBSUB_H_SIGNATURE },
    { ngx_string("ce-specversion"), NGX_HTTP_WEBPUBSUB_H_SPECVERSION },
    { ngx_string("ce-awpsversion"), NGX_HTTP_WEBPUBSUB_H_AWPSVERSION },
    { ngx_string("ce-connectionid"), NGX_HTTP_WEBPUBSUB_H_CONNECTION_ID },
    { ngx_string("webhook-request-origin"), NGX_HTTP_WEBPUBSUB_H_ORIGIN },
    { ngx_null_string, 0 }
};

/* 1 + the index of the first name of each length, 0 where there is none */
static u_char  ngx_http_webpubsub_ce_first[
                                  sizeof("webhook-request-origin")];


ngx_int_t
ngx_http_webpubsub_event_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_webpubsub_event_t     *ev;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);

    if (!wlcf->event_handler) {
        return wlcf->refuse_stray ? ngx_http_webpubsub_stray(r)
                                  : NGX_DECLINED;
    }

    if (ngx_http_webpubsub_exempt(r)) {
        return NGX_DECLINED;
    }

    ev = ngx_http_webpubsub_get_event(r);
    if (ev == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ev->status == 0 && wlcf->event_auth != NULL && !ev->authorized) {
        rc = ngx_http_webpubsub_event_auth_check(r, wlcf, ev);

        if (rc == NGX_AGAIN || rc == NGX_DONE) {
            return rc;
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ev->authorized = (rc == NGX_OK);
    }

    if (ev->status == 0) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "webpubsub event \"%V\" of hub \"%V\" accepted",
                       &ev->type, &ev->hub);
        ngx_http_webpubsub_count_accepted(r, ev);
        return NGX_DECLINED;
    }

    /* nginx answers: an unread body must not become the next request */
    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ev->status != NGX_HTTP_OK) {
        /* a GET from a browser is no webhook: a client mistake */
        ngx_http_webpubsub_log_refusal(r, ev->status == NGX_HTTP_NOT_ALLOWED
                                          ? NGX_LOG_INFO : NGX_LOG_WARN, ev);

        ngx_http_webpubsub_count_main(r, (r->method == NGX_HTTP_OPTIONS)
                                         ? NGX_HTTP_WEBPUBSUB_HANDSHAKES
                                           + NGX_HTTP_WEBPUBSUB_HS_REFUSED
                                         : NGX_HTTP_WEBPUBSUB_EV_REFUSED
                                           + ev->refused);

        rc = ngx_http_webpubsub_reject(r, ev);
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    /*
     * The abuse-protection handshake.  The origin has been checked
     * against webpubsub_allowed_origins already, so "*" is the answer:
     * every service version accepts it, whatever form its origin takes.
     */

    if (ngx_http_webpubsub_add_header(r, "WebHook-Allowed-Origin", "*")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_webpubsub_count_main(r, NGX_HTTP_WEBPUBSUB_HANDSHAKES
                                     + NGX_HTTP_WEBPUBSUB_HS_ACCEPTED);

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    rc = ngx_http_send_header(r);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


static ngx_int_t
ngx_http_webpubsub_reject(ngx_http_request_t *r,
    ngx_http_webpubsub_event_t *ev)
{
    if (ev->status == NGX_HTTP_NOT_ALLOWED) {
        if (ngx_http_webpubsub_add_header(r, "Allow", "OPTIONS, POST")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_webpubsub_send_error(r, ev->status, &ev->reason);
}


/*
 * nginx's own requests are not the service's: a subrequest (SSI,
 * auth_request, a REST call with headers of its own) or an error page
 * that is no longer a POST or an OPTIONS.  error_page to a named location
 * and mirror keep the method and every header of the caller: those are
 * checked again, as the caller's request was.
 */

static ngx_int_t
ngx_http_webpubsub_exempt(ngx_http_request_t *r)
{
    if (r->method & (NGX_HTTP_POST|NGX_HTTP_OPTIONS)) {
        return r != r->main
               && r->headers_in.headers.part.elts
                  != r->main->headers_in.headers.part.elts;
    }

    return r != r->main || r->error_page;
}


/*
 * webpubsub_refuse_stray_events: a request shaped like a webhook in a
 * location without the gateway is refused, so that a catch-all location
 * proxying to the same application cannot carry a forged event there.
 */

static ngx_int_t
ngx_http_webpubsub_stray(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_uint_t                  i, found;
    ngx_list_part_t            *part;
    ngx_table_elt_t            *h;
    ngx_http_webpubsub_ctx_t   *ctx;
    ngx_http_webpubsub_event_t  ev;

    static ngx_str_t  signature = ngx_string("ce-signature");
    static ngx_str_t  type = ngx_string("ce-type");

    if (ngx_http_webpubsub_exempt(r)) {
        return NGX_DECLINED;
    }

    ngx_memzero(&ev, sizeof(ngx_http_webpubsub_event_t));
    found = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_webpubsub_header_is(&h[i], &type)) {
            ev.type = h[i].value;
            found = 1;
            break;
        }

        if (ngx_http_webpubsub_header_is(&h[i], &signature)) {
            found = 1;
        }
    }

    if (!found) {
        return NGX_DECLINED;
    }

    /* a mirror of an event that its main request's gateway accepted */

    if (r != r->main) {
        ctx = ngx_http_get_module_ctx(r->main, ngx_http_webpubsub_module);

        if (ctx != NULL && ctx->event != NULL && ctx->event->status == 0) {
            return NGX_DECLINED;
        }
    }

    ev.status = NGX_HTTP_FORBIDDEN;
    ngx_str_set(&ev.reason,
                "CloudEvents request outside the event handler gateway");

    ngx_http_webpubsub_log_refusal(r, NGX_LOG_WARN, &ev);
    ngx_http_webpubsub_count_main(r, NGX_HTTP_WEBPUBSUB_EV_REFUSED
                                     + NGX_HTTP_WEBPUBSUB_REF_STRAY);

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* NGX_OK from a phase handler would go on to the content handler */

    rc = ngx_http_webpubsub_send_error(r, ev.status, &ev.reason);
    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/*
 * What an operator needs to tell a forgery from a misconfiguration: the
 * reason, the URI and the attributes that are no secret, each cut short.
 * The connection id is left out: a refused one may be a token's claims.
 */

static void
ngx_http_webpubsub_log_refusal(ngx_http_request_t *r, ngx_uint_t level,
    ngx_http_webpubsub_event_t *ev)
{
    ngx_str_t    attr[3];
    ngx_uint_t   i;

    attr[0] = ev->type;
    attr[1] = ev->hub;
    attr[2] = ev->origin;

    for (i = 0; i < 3; i++) {
        if (attr[i].data == NULL) {
            ngx_str_set(&attr[i], "-");
        }

        if (attr[i].len > 64) {
            attr[i].len = 64;
        }
    }

    ngx_log_error(level, r->connection->log, 0,
                  "webpubsub: webhook refused with %ui: %V, uri \"%V\", "
                  "ce-type \"%V\", ce-hub \"%V\", origin \"%V\"",
                  ev->status, &ev->reason, &r->uri, &attr[0], &attr[1],
                  &attr[2]);
}


/*
 * An event on its way to the application, counted by type: ce-type has
 * been checked, "azure.webpubsub.sys.*" is one of three, anything else
 * is "azure.webpubsub.user.*".
 */

static void
ngx_http_webpubsub_count_accepted(ngx_http_request_t *r,
    ngx_http_webpubsub_event_t *ev)
{
    ngx_uint_t  type;

    /* once: error_page may take it to another gateway location */

    if (ngx_http_webpubsub_counters == NULL
        || !ngx_http_webpubsub_count_first(r))
    {
        return;
    }

    if (ev->type.len <= sizeof("azure.webpubsub.") - 1
        || ev->type.data[sizeof("azure.webpubsub.") - 1] != 's')
    {
        type = NGX_HTTP_WEBPUBSUB_EVT_USER;

    } else if (ev->type.len == sizeof("azure.webpubsub.sys.connect") - 1) {
        type = NGX_HTTP_WEBPUBSUB_EVT_CONNECT;

    } else if (ev->type.len == sizeof("azure.webpubsub.sys.connected") - 1) {
        type = NGX_HTTP_WEBPUBSUB_EVT_CONNECTED;

    } else {
        type = NGX_HTTP_WEBPUBSUB_EVT_DISCONNECTED;
    }

    ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_EVENTS + type);
}


/* data: the offset of the ngx_str_t in ngx_http_webpubsub_event_t */

ngx_int_t
ngx_http_webpubsub_event_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_webpubsub_event_t     *ev;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);

    if (!wlcf->event_handler) {
        v->not_found = 1;
        return NGX_OK;
    }

    /* limit_req and others run before the gateway: check here first */
    ev = ngx_http_webpubsub_get_event(r);
    if (ev == NULL) {
        return NGX_ERROR;
    }

    if (ev->status != 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_webpubsub_variable(v,
                                       (ngx_str_t *) ((char *) ev + data));
}


static ngx_http_webpubsub_event_t *
ngx_http_webpubsub_get_event(ngx_http_request_t *r)
{
    ngx_http_webpubsub_ctx_t  *ctx;

    ctx = ngx_http_webpubsub_get_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->event != NULL) {
        return ctx->event;
    }

    ctx->event = ngx_pcalloc(r->pool, sizeof(ngx_http_webpubsub_event_t));
    if (ctx->event == NULL) {
        return NULL;
    }

    if (ngx_http_webpubsub_check_event(r, ctx->conf, ctx->event) != NGX_OK) {
        ctx->event = NULL;
        return NULL;
    }

    return ctx->event;
}


/*
 * A webhook's verdict in ev: status 0 for a genuine event, NGX_HTTP_OK for
 * a handshake to answer, or an error status with its reason.  NGX_ERROR
 * only where nginx itself failed.
 */

static ngx_int_t
ngx_http_webpubsub_check_event(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_event_t *ev)
{
    ngx_int_t                    rc;
    ngx_http_webpubsub_attrs_t   attrs;

    rc = ngx_http_webpubsub_collect(r, &attrs, ev);
    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : rc;
    }

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_webpubsub_check_handshake(wlcf, &attrs, ev);
    }

    if (r->method != NGX_HTTP_POST) {
        ev->status = NGX_HTTP_NOT_ALLOWED;
        ev->refused = NGX_HTTP_WEBPUBSUB_REF_METHOD;
        ngx_str_set(&ev->reason, "method not allowed");
        return NGX_OK;
    }

    return ngx_http_webpubsub_check_attributes(r, wlcf, &attrs, ev);
}


/*
 * The CloudEvents headers, each once, and the ce-signature lines: NGX_OK,
 * NGX_DECLINED with ev's status and reason set, or NGX_ERROR.
 */

static ngx_int_t
ngx_http_webpubsub_collect(ngx_http_request_t *r,
    ngx_http_webpubsub_attrs_t *attrs, ngx_http_webpubsub_event_t *ev)
{
    u_char                          *p;
    ngx_str_t                      **v;
    ngx_uint_t                       i, k;
    const char                      *reason;
    ngx_list_part_t                 *part;
    ngx_table_elt_t                 *h;
    ngx_http_webpubsub_ce_header_t  *ch;

    ngx_memzero(attrs, sizeof(ngx_http_webpubsub_attrs_t));
    v = attrs->v;
    ev->refused = NGX_HTTP_WEBPUBSUB_REF_TOO_LONG;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (!ngx_http_webpubsub_header_maybe(&h[i])) {
            continue;
        }

        if (h[i].key.len >= sizeof(ngx_http_webpubsub_ce_first)
            || ngx_http_webpubsub_ce_first[h[i].key.len] == 0)
        {
            continue;
        }

        for (ch = &ngx_http_webpubsub_ce_headers[
                               ngx_http_webpubsub_ce_first[h[i].key.len] - 1];
             ch->name.len == h[i].key.len;
             ch++)
        {
            if (ngx_http_webpubsub_header_is(&h[i], &ch->name)) {
                break;
            }
        }

        if (ch->name.len != h[i].key.len) {
            continue;
        }

        if (ch->index == NGX_HTTP_WEBPUBSUB_H_SIGNATURE) {
            if (attrs->nsig == NGX_WEBPUBSUB_SIGNATURES_MAX) {
                reason = "too many ce-signature headers";
                goto invalid;
            }

            if (h[i].value.len > NGX_WEBPUBSUB_ATTR_MAX) {
                reason = "ce-signature too long";
                goto invalid;
            }

            attrs->sig[attrs->nsig++] = &h[i];
            continue;
        }

        /* two values of one attribute: which would the app believe? */
        if (v[ch->index] != NULL) {
            p = ngx_pnalloc(r->pool, sizeof("duplicate  header") - 1
                                     + ch->name.len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ev->status = NGX_HTTP_BAD_REQUEST;
            ev->refused = NGX_HTTP_WEBPUBSUB_REF_DUPLICATE;
            ev->reason.data = p;
            ev->reason.len = ngx_sprintf(p, "duplicate %V header", &ch->name)
                             - p;
            return NGX_DECLINED;
        }

        v[ch->index] = &h[i].value;
    }

    /* as the request has them, for the log of a refusal */

    if (v[NGX_HTTP_WEBPUBSUB_H_TYPE] != NULL) {
        ev->type = *v[NGX_HTTP_WEBPUBSUB_H_TYPE];
    }

    if (v[NGX_HTTP_WEBPUBSUB_H_HUB] != NULL) {
        ev->hub = *v[NGX_HTTP_WEBPUBSUB_H_HUB];
    }

    if (v[NGX_HTTP_WEBPUBSUB_H_ORIGIN] != NULL) {
        ev->origin = *v[NGX_HTTP_WEBPUBSUB_H_ORIGIN];
    }

    for (k = 0; k < NGX_HTTP_WEBPUBSUB_H_SINGLE; k++) {
        if (v[k] != NULL && v[k]->len > NGX_WEBPUBSUB_ATTR_MAX) {
            reason = "CloudEvents attribute too long";
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    ev->status = NGX_HTTP_BAD_REQUEST;
    ev->reason.data = (u_char *) reason;
    ev->reason.len = ngx_strlen(reason);

    return NGX_DECLINED;
}


/* the abuse-protection handshake: an origin of the allowed ones */

static ngx_int_t
ngx_http_webpubsub_check_handshake(ngx_http_webpubsub_loc_conf_t *wlcf,
    ngx_http_webpubsub_attrs_t *attrs, ngx_http_webpubsub_event_t *ev)
{
    ngx_str_t  *origin;

    origin = attrs->v[NGX_HTTP_WEBPUBSUB_H_ORIGIN];

    if (origin == NULL || origin->len == 0) {
        ev->refused = NGX_HTTP_WEBPUBSUB_REF_MISSING;
        ngx_str_set(&ev->reason, "missing WebHook-Request-Origin");
        ev->status = NGX_HTTP_BAD_REQUEST;
        return NGX_OK;
    }

    if (ngx_webpubsub_origin_match(origin->data, origin->len,
                                   wlcf->origins->elts, wlcf->origins->nelts)
        < 0)
    {
        ev->refused = NGX_HTTP_WEBPUBSUB_REF_MALFORMED;
        ngx_str_set(&ev->reason, "WebHook-Request-Origin not allowed");
        ev->status = NGX_HTTP_BAD_REQUEST;
        return NGX_OK;
    }

    ev->status = NGX_HTTP_OK;

    return NGX_OK;
}


/* an event: its attributes, its hub, then its signature */

static ngx_int_t
ngx_http_webpubsub_check_attributes(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_attrs_t *attrs,
    ngx_http_webpubsub_event_t *ev)
{
    ngx_int_t    rc;
    ngx_str_t    hub, **v;
    ngx_uint_t   status, why;
    const char  *reason;

    v = attrs->v;
    status = NGX_HTTP_BAD_REQUEST;

    if (v[NGX_HTTP_WEBPUBSUB_H_SPECVERSION] == NULL) {
        why = NGX_HTTP_WEBPUBSUB_REF_MISSING;
        reason = "missing ce-specversion";
        goto invalid;
    }

    if (v[NGX_HTTP_WEBPUBSUB_H_SPECVERSION]->len != 3
        || ngx_strncmp(v[NGX_HTTP_WEBPUBSUB_H_SPECVERSION]->data, "1.0", 3)
           != 0)
    {
        why = NGX_HTTP_WEBPUBSUB_REF_MALFORMED;
        reason = "unsupported ce-specversion";
        goto invalid;
    }

    if (v[NGX_HTTP_WEBPUBSUB_H_AWPSVERSION] == NULL) {
        why = NGX_HTTP_WEBPUBSUB_REF_MISSING;
        reason = "missing ce-awpsversion";
        goto invalid;
    }

    if (!ngx_http_webpubsub_is_version(v[NGX_HTTP_WEBPUBSUB_H_AWPSVERSION])) {
        why = NGX_HTTP_WEBPUBSUB_REF_MALFORMED;
        reason = "malformed ce-awpsversion";
        goto invalid;
    }

    if (v[NGX_HTTP_WEBPUBSUB_H_TYPE] == NULL) {
        why = NGX_HTTP_WEBPUBSUB_REF_MISSING;
        reason = "missing ce-type";
        goto invalid;
    }

    why = NGX_HTTP_WEBPUBSUB_REF_MALFORMED;
    reason = ngx_webpubsub_check_event_type(v[NGX_HTTP_WEBPUBSUB_H_TYPE]->data,
                                            v[NGX_HTTP_WEBPUBSUB_H_TYPE]->len);
    if (reason != NULL) {
        goto invalid;
    }

    if (v[NGX_HTTP_WEBPUBSUB_H_CONNECTION_ID] == NULL
        || v[NGX_HTTP_WEBPUBSUB_H_CONNECTION_ID]->len == 0)
    {
        why = NGX_HTTP_WEBPUBSUB_REF_MISSING;
        reason = "missing ce-connectionId";
        goto invalid;
    }

    ev->connection_id = *v[NGX_HTTP_WEBPUBSUB_H_CONNECTION_ID];

    if (ngx_webpubsub_jws_shaped(ev->connection_id.data,
                                 ev->connection_id.len))
    {
        status = NGX_HTTP_UNAUTHORIZED;
        why = NGX_HTTP_WEBPUBSUB_REF_JWT_ID;
        reason = "ce-connectionId is shaped like a JWT";
        goto invalid;
    }

    if (v[NGX_HTTP_WEBPUBSUB_H_HUB] == NULL
        || v[NGX_HTTP_WEBPUBSUB_H_HUB]->len == 0)
    {
        why = NGX_HTTP_WEBPUBSUB_REF_MISSING;
        reason = "missing ce-hub";
        goto invalid;
    }

    if (ngx_http_complex_value(r, wlcf->hub, &hub) != NGX_OK) {
        return NGX_ERROR;
    }

    /* a constant was checked by the directive */
    if (wlcf->hub->lengths != NULL
        && ngx_webpubsub_check_hub(hub.data, hub.len) != NULL)
    {
        why = NGX_HTTP_WEBPUBSUB_REF_WRONG_HUB;
        reason = "webpubsub_hub is not a valid hub name";
        goto invalid;
    }

    /* the service compares hub names ignoring case, and so do its SDKs */
    if (ev->hub.len != hub.len
        || ngx_strncasecmp(ev->hub.data, hub.data, hub.len) != 0)
    {
        why = NGX_HTTP_WEBPUBSUB_REF_WRONG_HUB;
        reason = "ce-hub is not this hub";
        goto invalid;
    }

    if (v[NGX_HTTP_WEBPUBSUB_H_USER_ID] != NULL) {
        ev->user_id = *v[NGX_HTTP_WEBPUBSUB_H_USER_ID];
    }

    if (v[NGX_HTTP_WEBPUBSUB_H_EVENT_NAME] != NULL) {
        ev->name = *v[NGX_HTTP_WEBPUBSUB_H_EVENT_NAME];
    }

    status = NGX_HTTP_UNAUTHORIZED;

    if (wlcf->keys == NULL) {
        /* no keys, no signature: webpubsub_event_auth checks the event */
        return NGX_OK;
    }

    if (attrs->nsig == 0) {
        why = NGX_HTTP_WEBPUBSUB_REF_NO_SIGNATURE;
        reason = "missing ce-signature";
        goto invalid;
    }

    rc = ngx_http_webpubsub_check_signature(r, wlcf, &ev->connection_id,
                                            attrs->sig, attrs->nsig);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    why = NGX_HTTP_WEBPUBSUB_REF_BAD_SIGNATURE;
    reason = "invalid ce-signature";

invalid:

    ev->status = status;
    ev->refused = why;
    ev->reason.data = (u_char *) reason;
    ev->reason.len = ngx_strlen(reason);

    return NGX_OK;
}


static ngx_int_t
ngx_http_webpubsub_check_signature(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *connection_id,
    ngx_table_elt_t **signatures, ngx_uint_t nsignatures)
{
    u_char                     mac[NGX_WEBPUBSUB_SHA256_LEN];
    ngx_int_t                  rc;
    ngx_uint_t                 i, j;
    ngx_http_webpubsub_key_t  *key;

    key = wlcf->keys->elts;
    rc = NGX_DECLINED;

    /* every key: the service signs with primary and secondary */

    for (i = 0; i < wlcf->keys->nelts && rc == NGX_DECLINED; i++) {
        if (ngx_webpubsub_hmac(key[i].hmac, connection_id->data,
                               connection_id->len, mac)
            != 0)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "webpubsub: HMAC-SHA256 failed");
            rc = NGX_ERROR;
            break;
        }

        for (j = 0; j < nsignatures; j++) {
            if (ngx_webpubsub_signature_match(signatures[j]->value.data,
                                              signatures[j]->value.len, mac))
            {
                rc = NGX_OK;
                break;
            }
        }
    }

    /* it would sign any event of this connection: not left on the stack */
    ngx_webpubsub_wipe(mac, sizeof(mac));

    return rc;
}


/*
 * The index by length of ngx_http_webpubsub_ce_headers, at start: the
 * lookup relies on the names being ordered by length and fitting it.
 */

ngx_int_t
ngx_http_webpubsub_event_init_names(ngx_conf_t *cf)
{
    size_t                           len;
    ngx_uint_t                       i;
    ngx_http_webpubsub_ce_header_t  *ch;

    len = 0;

    for (i = 0, ch = ngx_http_webpubsub_ce_headers; ch->name.len; i++, ch++) {
        if (ch->name.len < len
            || ch->name.len >= sizeof(ngx_http_webpubsub_ce_first))
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "webpubsub: the CloudEvents header \"%V\" is out "
                          "of order or too long", &ch->name);
            return NGX_ERROR;
        }

        len = ch->name.len;

        if (ngx_http_webpubsub_ce_first[len] == 0) {
            ngx_http_webpubsub_ce_first[len] = (u_char) (i + 1);
        }
    }

    return NGX_OK;
}


/*
 * Whether a header can be one of ngx_http_webpubsub_ce_headers: all but
 * WebHook-Request-Origin begin with "ce-" (or "ce_"), so most headers are
 * passed over after a byte or two.
 */

static ngx_int_t
ngx_http_webpubsub_header_maybe(ngx_table_elt_t *h)
{
    u_char  *k;

    k = h->lowcase_key;

    if (h->key.len > 3 && k[0] == 'c' && k[1] == 'e'
        && (k[2] == '-' || k[2] == '_'))
    {
        return 1;
    }

    return h->key.len == sizeof("webhook-request-origin") - 1;
}


/*
 * "ce_hub" counts as "ce-hub": with underscores_in_headers on, FastCGI and
 * the like would hand both to the application as HTTP_CE_HUB, and it must
 * not see a second value beside the one checked.
 */

static ngx_int_t
ngx_http_webpubsub_header_is(ngx_table_elt_t *h, ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (h->key.len != name->len) {
        return 0;
    }

    if (ngx_memcmp(h->lowcase_key, name->data, name->len) == 0) {
        return 1;
    }

    for (i = 0; i < name->len; i++) {
        c = h->lowcase_key[i];

        if (c == '_') {
            c = '-';
        }

        if (c != name->data[i]) {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_webpubsub_is_version(ngx_str_t *v)
{
    size_t      i;
    ngx_uint_t  dot;

    /* "1.0": digits, one dot, digits */

    if (v->len == 0 || v->len > 16) {
        return 0;
    }

    dot = 0;

    for (i = 0; i < v->len; i++) {
        if (v->data[i] == '.' && i > 0 && i + 1 < v->len && !dot) {
            dot = 1;

        } else if (v->data[i] < '0' || v->data[i] > '9') {
            return 0;
        }
    }

    return dot;
}


char *
ngx_http_webpubsub_allowed_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    u_char               *end;
    ngx_str_t            *value;
    ngx_uint_t            i;
    ngx_webpubsub_str_t  *o;

    if (wlcf->allowed_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    wlcf->allowed_origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                             sizeof(ngx_webpubsub_str_t));
    if (wlcf->allowed_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        end = value[i].data + value[i].len;

        if (value[i].len == 0
            || ngx_strlchr(value[i].data, end, ',') != NULL
            || ngx_strlchr(value[i].data, end, ' ') != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webpubsub_allowed_origins\" directive: "
                               "invalid origin \"%V\", give one host name "
                               "per argument", &value[i]);
            return NGX_CONF_ERROR;
        }

        o = ngx_array_push(wlcf->allowed_origins);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }

        o->data = value[i].data;
        o->len = value[i].len;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_webpubsub_event_handler_flag(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    char  *rv;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /* kept to name this line if merging finds the location unfit */
    wlcf->event_file = cf->conf_file->file.name.data;
    wlcf->event_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


char *
ngx_http_webpubsub_merge_event(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf, ngx_http_webpubsub_loc_conf_t *prev)
{
    void                      *try_files;
    ngx_uint_t                 here;
    ngx_module_t              *m;
    const char                *missing;
    ngx_webpubsub_str_t       *o;
    ngx_http_core_loc_conf_t  *clcf;

    here = (conf->event_file != NULL);

    ngx_conf_merge_value(conf->event_handler, prev->event_handler, 0);
    ngx_conf_merge_value(conf->refuse_stray, prev->refuse_stray, 0);
    ngx_conf_merge_ptr_value(conf->allowed_origins, prev->allowed_origins,
                             NULL);
    ngx_conf_merge_ptr_value(conf->event_auth, prev->event_auth, NULL);
    ngx_conf_merge_str_value(conf->event_auth_pass, prev->event_auth_pass,
                             "");

    if (!here) {
        conf->event_file = prev->event_file;
        conf->event_line = prev->event_line;
    }

    if (!conf->event_handler) {
        return NGX_CONF_OK;
    }

    if (conf->keys == NULL && conf->event_auth == NULL) {
        missing = "no webpubsub_access_key, webpubsub_access_key_file, "
                  "webpubsub_connection_string or webpubsub_event_auth";

    } else if (conf->event_auth != NULL && conf->event_auth_pass.len == 0) {
        missing = "webpubsub_event_auth but no webpubsub_event_auth_pass";

    } else if (conf->hub == NULL) {
        missing = "no webpubsub_hub";

    } else if (conf->allowed_origins == NULL && conf->endpoint == NULL) {
        missing = "no webpubsub_allowed_origins or endpoint";

    } else {
        missing = NULL;
    }

    if (missing != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_event_handler\" is on with %s "
                           "configured", missing);
        return NGX_CONF_ERROR;
    }

    /*
     * The gateway guards an application's handler; negotiate or a REST
     * call answered here would be refused as a webhook instead.
     */

    if (conf->token || conf->rest_op != NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"webpubsub_event_handler\" in %s:%ui is on in the "
                      "location of \"%s\" in %s:%ui: turn it off there",
                      conf->event_file, conf->event_line,
                      conf->token ? "webpubsub_token" : "webpubsub_rest",
                      conf->token ? conf->token_file : conf->rest_file,
                      conf->token ? conf->token_line : conf->rest_line);
        return NGX_CONF_ERROR;
    }

    /*
     * Where it is turned on, events must go somewhere: without a content
     * handler the handshake succeeds and every event gets a 404.
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (here && clcf->name.len && !clcf->noname && clcf->handler == NULL
        && clcf->locations == NULL)
    {
        m = ngx_http_webpubsub_find_module(cf->cycle,
                                           "ngx_http_try_files_module");

        /* its configuration starts with what try_files has set */

        try_files = (m != NULL)
                    ? ((ngx_http_conf_ctx_t *) cf->ctx)->loc_conf[m->ctx_index]
                    : NULL;

        if (try_files == NULL || *(void **) try_files == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"webpubsub_event_handler\" in %s:%ui is on in "
                          "location \"%V\", which has no content handler: "
                          "add proxy_pass (or fastcgi_pass, ...) to the "
                          "application", conf->event_file, conf->event_line,
                          &clcf->name);
            return NGX_CONF_ERROR;
        }
    }

    if (conf->allowed_origins != NULL) {
        conf->origins = conf->allowed_origins;
        return NGX_CONF_OK;
    }

    /*
     * By default the service itself, the host of this level's endpoint:
     * made anew on every level, as a location may name another resource.
     */

    conf->origins = ngx_array_create(cf->pool, 1, sizeof(ngx_webpubsub_str_t));
    if (conf->origins == NULL) {
        return NGX_CONF_ERROR;
    }

    o = ngx_array_push(conf->origins);
    if (o == NULL) {
        return NGX_CONF_ERROR;
    }

    o->data = conf->endpoint->buf + conf->endpoint->host_start;
    o->len = conf->endpoint->host_len;

    return NGX_CONF_OK;
}
