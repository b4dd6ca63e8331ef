
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * Negotiate: client access tokens and URLs, as the SDKs'
 * getClientAccessToken() makes them, served by a content handler and
 * exposed as $webpubsub_token and $webpubsub_client_url.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_module.h"
#include "ngx_http_webpubsub_rest.h"
#include "ngx_webpubsub_reply.h"
#include "ngx_http_webpubsub_status.h"


static ngx_http_webpubsub_token_t *ngx_http_webpubsub_get_token(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_webpubsub_make_token(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t);
static ngx_int_t ngx_http_webpubsub_eval_values(ngx_http_request_t *r,
    ngx_array_t *cvs, const ngx_webpubsub_str_t **out, size_t *n,
    ngx_http_webpubsub_token_t *t, const char *too_long);
static ngx_int_t ngx_http_webpubsub_token_answer(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t);
static ngx_int_t ngx_http_webpubsub_token_remote(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_webpubsub_token_fetched(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_webpubsub_token_aud(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t);
static ngx_int_t ngx_http_webpubsub_token_urls(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t);
static ngx_int_t ngx_http_webpubsub_token_args(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t,
    ngx_webpubsub_claims_t *claims);
static ngx_int_t ngx_http_webpubsub_client_join(ngx_pool_t *pool,
    ngx_str_t *out, u_char *base, size_t base_len, ngx_uint_t protocol,
    ngx_str_t *hub);
static ngx_int_t ngx_http_webpubsub_constants(ngx_conf_t *cf,
    ngx_array_t *cvs, ngx_webpubsub_str_t **out, size_t *n);
static void ngx_http_webpubsub_free_token(void *data);
static ngx_int_t ngx_http_webpubsub_sign_template(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t,
    ngx_str_t *user);
static ngx_int_t ngx_http_webpubsub_sign_claims(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t,
    ngx_webpubsub_claims_t *claims);
static u_char *ngx_http_webpubsub_member(u_char *p, const char *name,
    ngx_str_t *value, ngx_uint_t plain, ngx_uint_t last);
static size_t ngx_http_webpubsub_member_length(const char *name,
    ngx_str_t *value, ngx_uint_t plain);


char *
ngx_http_webpubsub_set_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (wlcf->token) {
        return "is duplicate";
    }

    wlcf->token = 1;

    /* kept to name this line if merging finds the service incomplete */
    wlcf->token_file = cf->conf_file->file.name.data;
    wlcf->token_line = cf->conf_file->line;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate: this location already has a content handler "
               "(proxy_pass, webpubsub_rest, ...)";
    }

    clcf->handler = ngx_http_webpubsub_token_handler;

    return NGX_CONF_OK;
}


/*
 * Once a location's negotiate is complete: what every token of it shares,
 * made now.  Where roles or groups come from variables the claims are
 * written whole per request instead.  URLs built from the endpoint are
 * checked here to need no JSON escaping; the hub is checked per request
 * to hold only characters that need none, and a token never does.
 */

char *
ngx_http_webpubsub_token_init(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf)
{
    size_t                nroles, ngroups;
    ngx_str_t             base, hub, joined;
    ngx_webpubsub_str_t   aud, *roles, *groups;

    base.data = conf->endpoint->buf;
    base.len = conf->endpoint->len;

    conf->token_plain =
        ngx_webpubsub_json_escape_length(base.data, base.len) == base.len
        && ngx_webpubsub_json_escape_length(conf->client_base.data,
                                            conf->client_base.len)
           == conf->client_base.len;

    if (conf->keys == NULL) {
        /* the service makes the tokens (:generateToken) */
        return NGX_CONF_OK;
    }

    if (ngx_http_webpubsub_constants(cf, conf->roles, &roles, &nroles)
        != NGX_OK
        || ngx_http_webpubsub_constants(cf, conf->groups, &groups, &ngroups)
           != NGX_OK)
    {
        return NGX_CONF_OK;
    }

    /*
     * A hub without variables goes into the template, whole audience and
     * URL prefix; an invalid one is left to be refused per request.
     */

    ngx_str_set(&hub, "");

    if (conf->hub->lengths == NULL
        && ngx_webpubsub_check_hub(conf->hub->value.data,
                                   conf->hub->value.len)
           == NULL)
    {
        hub = conf->hub->value;
        conf->token_hub = 1;
    }

    if (ngx_http_webpubsub_client_join(cf->pool, &joined,
                                       conf->endpoint->buf,
                                       conf->endpoint->len, conf->protocol,
                                       &hub)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    aud.data = joined.data;
    aud.len = joined.len;

    conf->token_tpl = ngx_http_webpubsub_token_template(cf, conf, &aud, roles,
                                                        nroles, groups,
                                                        ngroups);
    if (conf->token_tpl == NULL) {
        return NGX_CONF_ERROR;
    }

    if (!conf->token_plain || conf->protocol == NGX_WEBPUBSUB_PROTOCOL_SOCKETIO)
    {
        /* the answer is written around the token */
        return NGX_CONF_OK;
    }

    if (ngx_http_webpubsub_client_join(cf->pool, &conf->client_prefix,
                                       conf->client_base.data,
                                       conf->client_base.len, conf->protocol,
                                       &hub)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The values of roles or groups that hold no variables, without the empty
 * ones as a request would skip them; NGX_DECLINED if any is not constant
 * or would be refused as too long (the request says so then).
 */

static ngx_int_t
ngx_http_webpubsub_constants(ngx_conf_t *cf, ngx_array_t *cvs,
    ngx_webpubsub_str_t **out, size_t *n)
{
    ngx_uint_t                 i;
    ngx_webpubsub_str_t       *a;
    ngx_http_complex_value_t  *cv;

    *out = NULL;
    *n = 0;

    if (cvs == NULL || cvs->nelts == 0) {
        return NGX_OK;
    }

    a = ngx_palloc(cf->pool, cvs->nelts * sizeof(ngx_webpubsub_str_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    cv = cvs->elts;

    for (i = 0; i < cvs->nelts; i++) {
        if (cv[i].lengths != NULL
            || cv[i].value.len > NGX_HTTP_WEBPUBSUB_VALUE_MAX)
        {
            return NGX_DECLINED;
        }

        if (cv[i].value.len == 0) {
            continue;
        }

        a[*n].data = cv[i].value.data;
        a[*n].len = cv[i].value.len;
        (*n)++;
    }

    *out = a;

    return NGX_OK;
}


/*
 * A token template of the location's first key (negotiate's, or REST's
 * with an empty audience), freed with the configuration
 */

ngx_webpubsub_token_t *
ngx_http_webpubsub_token_template(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf, ngx_webpubsub_str_t *aud,
    ngx_webpubsub_str_t *roles, size_t nroles, ngx_webpubsub_str_t *groups,
    size_t ngroups)
{
    ngx_pool_cleanup_t        *cln;
    ngx_webpubsub_token_t     *tpl;
    ngx_http_webpubsub_key_t  *key;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    key = conf->keys->elts;

    tpl = ngx_webpubsub_token_new(key[0].hmac, aud, roles, nroles, groups,
                                  ngroups);
    if (tpl == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_webpubsub_free_token;
    cln->data = tpl;

    return tpl;
}


static void
ngx_http_webpubsub_free_token(void *data)
{
    ngx_webpubsub_token_free(data);
}


ngx_int_t
ngx_http_webpubsub_token_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc, answered;
    ngx_http_webpubsub_token_t     *t;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    static ngx_str_t  not_allowed = ngx_string("method not allowed");

    /* first: an unread body must not be taken for the next request */
    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_POST))) {
        if (ngx_http_webpubsub_add_header(r, "Allow", "GET, POST")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webpubsub: negotiate refused: %V", &not_allowed);
        ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_NEG_REFUSED
                                 + NGX_HTTP_WEBPUBSUB_NEG_METHOD);

        return ngx_http_webpubsub_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                             &not_allowed);
    }

    t = ngx_http_webpubsub_get_token(r);
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (t->status) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webpubsub: negotiate refused: %V", &t->reason);

        /*
         * Counted here, not where the token was refused: the variables
         * reach that too, in any location that uses them.
         */
        ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_NEG_REFUSED
                                 + t->refused);

        return ngx_http_webpubsub_send_error(r, t->status, &t->reason);
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);

    if (t->pending) {
        /* no key: the service makes the token (:generateToken) */

        rc = ngx_http_webpubsub_rest_generate(r, wlcf, &t->hub, t->args,
                                              ngx_http_webpubsub_token_remote,
                                              &answered);
        if (rc == NGX_DONE) {
            return answered;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->main->count++;
        return NGX_DONE;
    }

    return ngx_http_webpubsub_token_answer(r, wlcf, t);
}


/* the answer of negotiate, in the SDK's shape */

static ngx_int_t
ngx_http_webpubsub_token_answer(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t)
{
    u_char      *json, *p;
    size_t       len;
    ngx_str_t    endpoint, path;
    ngx_uint_t   plain;

    if (t->answer.data != NULL) {
        /* signed into it already */
        return ngx_http_webpubsub_send_json(r, NGX_HTTP_OK, t->answer.data,
                                            t->answer.len);
    }

    /*
     * A token signed here is base64url and dots, and the hub has passed
     * ngx_webpubsub_check_hub(); a token the service made may hold
     * anything.
     */
    plain = wlcf->token_plain && t->args == NULL;

    if (wlcf->protocol == NGX_WEBPUBSUB_PROTOCOL_SOCKETIO) {

        /*
         * Socket.IO clients take the service origin and the path apart:
         * io(endpoint, { path, query: { access_token } }).
         */

        endpoint.data = wlcf->endpoint->buf;
        endpoint.len = wlcf->endpoint->path_start;

        path.data = t->aud.data + wlcf->endpoint->path_start;
        path.len = t->aud.len - wlcf->endpoint->path_start;

        len = 2
              + ngx_http_webpubsub_member_length("endpoint", &endpoint, plain)
              + ngx_http_webpubsub_member_length("path", &path, plain)
              + ngx_http_webpubsub_member_length("token", &t->token, plain);

        json = ngx_pnalloc(r->pool, len);
        if (json == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = json;
        *p++ = '{';
        p = ngx_http_webpubsub_member(p, "endpoint", &endpoint, plain, 0);
        p = ngx_http_webpubsub_member(p, "path", &path, plain, 0);
        p = ngx_http_webpubsub_member(p, "token", &t->token, plain, 1);
        *p++ = '}';

    } else {

        /* the members in the order the JS SDK returns them */

        len = 2
              + ngx_http_webpubsub_member_length("token", &t->token, plain)
              + ngx_http_webpubsub_member_length("baseUrl", &t->base_url,
                                                 plain)
              + ngx_http_webpubsub_member_length("url", &t->url, plain);

        json = ngx_pnalloc(r->pool, len);
        if (json == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = json;
        *p++ = '{';
        p = ngx_http_webpubsub_member(p, "token", &t->token, plain, 0);
        p = ngx_http_webpubsub_member(p, "baseUrl", &t->base_url, plain,
                                      0);
        p = ngx_http_webpubsub_member(p, "url", &t->url, plain, 1);
        *p++ = '}';
    }

    return ngx_http_webpubsub_send_json(r, NGX_HTTP_OK, json, p - json);
}


static size_t
ngx_http_webpubsub_member_length(const char *name, ngx_str_t *value,
    ngx_uint_t plain)
{
    /* "name":"value", */
    return ngx_strlen(name) + 6
           + (plain ? value->len
                    : ngx_webpubsub_json_escape_length(value->data,
                                                       value->len));
}


static u_char *
ngx_http_webpubsub_member(u_char *p, const char *name, ngx_str_t *value,
    ngx_uint_t plain, ngx_uint_t last)
{
    *p++ = '"';
    p = ngx_cpymem(p, name, ngx_strlen(name));
    *p++ = '"';
    *p++ = ':';
    *p++ = '"';

    if (plain) {
        p = ngx_cpymem(p, value->data, value->len);

    } else {
        p = ngx_webpubsub_json_escape(p, value->data, value->len);
    }

    *p++ = '"';

    if (!last) {
        *p++ = ',';
    }

    return p;
}


/*
 * The rewrite phase of a location with webpubsub_token_variables on and
 * no access key: the token is got from the service before anything (a
 * "return", proxy_set_header, the log) reads $webpubsub_token or
 * $webpubsub_client_url, which cannot wait for it.
 */

ngx_int_t
ngx_http_webpubsub_token_prefetch(ngx_http_request_t *r)
{
    ngx_int_t                       rc, answered;
    ngx_http_webpubsub_token_t     *t;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);

    if (!wlcf->token_variables || wlcf->keys != NULL
        || wlcf->credential == NULL || wlcf->token
        || wlcf->rest_op != NULL || wlcf->event_handler)
    {
        return NGX_DECLINED;
    }

    t = ngx_http_webpubsub_get_token(r);
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!t->pending || t->fetching) {
        /* made, refused (the variables are then not found), or coming */
        return t->fetching ? NGX_DONE : NGX_DECLINED;
    }

    rc = ngx_http_webpubsub_rest_generate(r, wlcf, &t->hub, t->args,
                                          ngx_http_webpubsub_token_fetched,
                                          &answered);
    if (rc == NGX_DONE) {
        /* the rewrite phase finalizes with it */
        return answered;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->fetching = 1;

    return NGX_DONE;
}


/* the service's {"token"} for the variables: the phases go on */

static ngx_int_t
ngx_http_webpubsub_token_fetched(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_int_t                    rc;
    ngx_http_webpubsub_ctx_t    *ctx;

    rc = ngx_http_webpubsub_token_remote(r, body);

    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);
    ctx->token->fetching = 0;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);

    return NGX_DONE;
}


/* the service's {"token"}: the answer is built around it */

static ngx_int_t
ngx_http_webpubsub_token_remote(ngx_http_request_t *r, ngx_str_t *body)
{
    size_t                          n;
    const char                     *err;
    ngx_http_webpubsub_ctx_t       *ctx;
    ngx_http_webpubsub_token_t     *t;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    static ngx_str_t  bad = ngx_string("the service's token is not a JWT");

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);
    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);
    t = ctx->token;

    t->token.data = ngx_pnalloc(r->pool, body->len);
    if (t->token.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    err = ngx_webpubsub_reply_token_value(body->data, body->len,
                                          t->token.data, body->len, &n);
    if (err != NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: generate_client_token: %V", &bad);
        ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_NEG_REFUSED
                                 + NGX_HTTP_WEBPUBSUB_NEG_SERVICE);
        ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_FAULTS
                                 + NGX_HTTP_WEBPUBSUB_FAULT_BAD_RESPONSE);
        return ngx_http_webpubsub_send_error(r, NGX_HTTP_BAD_GATEWAY, &bad);
    }

    t->token.len = n;
    t->pending = 0;

    ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_TOKENS
                             + NGX_HTTP_WEBPUBSUB_ST_SERVICE
                               * NGX_HTTP_WEBPUBSUB_ST_PROTOCOLS
                             + wlcf->protocol);

    if (ngx_http_webpubsub_token_urls(r, wlcf, t) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (t->fetching) {
        return NGX_OK;
    }

    return ngx_http_webpubsub_token_answer(r, wlcf, t);
}


/* data: the offset of the ngx_str_t in ngx_http_webpubsub_token_t */

ngx_int_t
ngx_http_webpubsub_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_webpubsub_token_t  *t;

    t = ngx_http_webpubsub_get_token(r);
    if (t == NULL) {
        return NGX_ERROR;
    }

    if (t->status) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (t->pending) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: $webpubsub_token and $webpubsub_client_url "
                      "without an access key come from the service: add "
                      "\"webpubsub_token_variables on;\" to the location "
                      "that uses them");
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_webpubsub_variable(v, (ngx_str_t *) ((char *) t + data));
}


/*
 * One token per request: the handler and both variables must agree even
 * when a second passes between their evaluations.
 */

static ngx_http_webpubsub_token_t *
ngx_http_webpubsub_get_token(ngx_http_request_t *r)
{
    ngx_http_webpubsub_ctx_t       *ctx;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    ctx = ngx_http_webpubsub_get_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->token != NULL) {
        return ctx->token;
    }

    ctx->token = ngx_pcalloc(r->pool, sizeof(ngx_http_webpubsub_token_t));
    if (ctx->token == NULL) {
        return NULL;
    }

    wlcf = ctx->conf;

    if (wlcf->endpoint == NULL || wlcf->hub == NULL
        || (wlcf->keys == NULL && wlcf->credential == NULL))
    {
        ctx->token->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        ngx_str_set(&ctx->token->reason, "no Web PubSub service configured");
        ctx->token->refused = NGX_HTTP_WEBPUBSUB_NEG_NO_SERVICE;
        return ctx->token;
    }

    if (ngx_http_webpubsub_make_token(r, wlcf, ctx->token) != NGX_OK) {
        ctx->token = NULL;
        return NULL;
    }

    return ctx->token;
}


static ngx_int_t
ngx_http_webpubsub_make_token(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t)
{
    ngx_int_t                rc;
    ngx_str_t                hub, user;
    ngx_webpubsub_claims_t   claims;

    ngx_memzero(&claims, sizeof(ngx_webpubsub_claims_t));

    rc = ngx_http_webpubsub_eval_hub(r, wlcf, &hub, &t->reason);
    if (rc != NGX_OK) {
        if (rc == NGX_DECLINED) {
            t->status = NGX_HTTP_BAD_REQUEST;
            t->refused = NGX_HTTP_WEBPUBSUB_NEG_BAD_HUB;
            return NGX_OK;
        }

        return rc;
    }

    t->hub = hub;

    if (wlcf->user_id != NULL) {
        if (ngx_http_complex_value(r, wlcf->user_id, &user) != NGX_OK) {
            return NGX_ERROR;
        }

        if (user.len > NGX_HTTP_WEBPUBSUB_VALUE_MAX) {
            t->status = NGX_HTTP_BAD_REQUEST;
            ngx_str_set(&t->reason, "user id longer than 4096 bytes");
            t->refused = NGX_HTTP_WEBPUBSUB_NEG_TOO_LONG;
            return NGX_OK;
        }

        claims.sub.data = user.data;
        claims.sub.len = user.len;

    } else {
        ngx_str_null(&user);
    }

    if (wlcf->token_tpl != NULL) {
        rc = ngx_http_webpubsub_sign_template(r, wlcf, t, &user);

    } else {
        rc = ngx_http_webpubsub_sign_claims(r, wlcf, t, &claims);
    }

    if (rc != NGX_OK) {
        /* NGX_DONE: refused, or the service is to make it */
        return (rc == NGX_DONE) ? NGX_OK : rc;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "webpubsub token for hub \"%V\", ttl %T", &hub, wlcf->ttl);

    ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_TOKENS
                             + NGX_HTTP_WEBPUBSUB_ST_KEY
                               * NGX_HTTP_WEBPUBSUB_ST_PROTOCOLS
                             + wlcf->protocol);

    if (t->answer.data != NULL) {
        /* the URLs are in it */
        return NGX_OK;
    }

    return ngx_http_webpubsub_token_urls(r, wlcf, t);
}


/* a token of claims written whole, or the arguments of :generateToken */

static ngx_int_t
ngx_http_webpubsub_sign_claims(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t,
    ngx_webpubsub_claims_t *claims)
{
    if (ngx_http_webpubsub_eval_values(r, wlcf->roles,
                                       &claims->roles,
                                       &claims->nroles, t,
                                       "role longer than 4096 bytes")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_webpubsub_eval_values(r, wlcf->groups,
                                       &claims->groups,
                                       &claims->ngroups, t,
                                       "group longer than 4096 bytes")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (t->status) {
        t->refused = NGX_HTTP_WEBPUBSUB_NEG_TOO_LONG;
        return NGX_DONE;
    }

    if (ngx_http_webpubsub_token_aud(r, wlcf, t) != NGX_OK) {
        return NGX_ERROR;
    }

    if (wlcf->keys == NULL) {
        if (ngx_http_webpubsub_token_args(r, wlcf, t, claims) != NGX_OK) {
            return NGX_ERROR;
        }

        return NGX_DONE;
    }

    claims->aud.data = t->aud.data;
    claims->aud.len = t->aud.len;

    claims->iat = ngx_time();
    claims->exp = claims->iat + wlcf->ttl;

    return ngx_http_webpubsub_sign(r, wlcf, claims, &t->token);
}


/*
 * The audience is the endpoint's http(s) form, the URL its ws(s) form;
 * Socket.IO's path is taken from it, whoever signs the token.
 */

static ngx_int_t
ngx_http_webpubsub_token_aud(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t)
{
    return ngx_http_webpubsub_client_join(r->pool, &t->aud,
                                          wlcf->endpoint->buf,
                                          wlcf->endpoint->len,
                                          wlcf->protocol, &t->hub);
}


/*
 * base, the protocol's client path and the hub, joined: the audience
 * (from the endpoint's http(s) form) or the head of the client URL (from
 * its ws(s) form)
 */

static ngx_int_t
ngx_http_webpubsub_client_join(ngx_pool_t *pool, ngx_str_t *out,
    u_char *base, size_t base_len, ngx_uint_t protocol, ngx_str_t *hub)
{
    u_char      *p;
    size_t       path_len;
    const char  *path;

    path = ngx_webpubsub_client_path(protocol);
    path_len = ngx_strlen(path);

    out->len = base_len + path_len + hub->len;

    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, base, base_len);
    p = ngx_cpymem(p, path, path_len);
    ngx_memcpy(p, hub->data, hub->len);

    return NGX_OK;
}


/*
 * A token from the location's template: its roles and groups are in it.
 * Where the answer needs no escaping, the token is signed straight into
 * the answer, whose URLs then hold the only copy of it.
 */

static ngx_int_t
ngx_http_webpubsub_sign_template(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t,
    ngx_str_t *user)
{
    u_char               *p, *json;
    size_t                len, scratch, base, size;
    time_t                now;
    ngx_webpubsub_str_t   h, u;

    static const char     head[] = "{\"token\":\"";

    if (wlcf->protocol == NGX_WEBPUBSUB_PROTOCOL_SOCKETIO
        && ngx_http_webpubsub_token_aud(r, wlcf, t) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a hub without variables is in the template already */

    h.data = t->hub.data;
    h.len = wlcf->token_hub ? 0 : t->hub.len;
    u.data = user->data;
    u.len = user->len;

    ngx_webpubsub_token_length(wlcf->token_tpl, &h, &u, &len, &scratch);

    if (wlcf->client_prefix.len == 0) {
        size = len;
        json = ngx_pnalloc(r->pool, size + scratch);
        p = json;

    } else {
        base = wlcf->client_prefix.len + h.len;
        size = sizeof("{\"token\":\"\",\"baseUrl\":\"\",\"url\":\""
                      "?access_token=\"}") - 1
               + 2 * len + 2 * base;
        json = ngx_pnalloc(r->pool, size + scratch);
        p = json + sizeof(head) - 1;
    }

    if (json == NULL) {
        return NGX_ERROR;
    }

    now = ngx_time();

    if (ngx_webpubsub_token_sign(wlcf->token_tpl, &h, &u, now,
                                 now + wlcf->ttl, p, json + size,
                                 &t->token.len)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: HMAC-SHA256 failed");
        return NGX_ERROR;
    }

    t->token.data = p;

    if (wlcf->client_prefix.len == 0) {
        return NGX_OK;
    }

    /* {"token":"T","baseUrl":"B","url":"B?access_token=T"} */

    ngx_memcpy(json, head, sizeof(head) - 1);
    p += t->token.len;
    p = ngx_cpymem(p, "\",\"baseUrl\":\"", sizeof("\",\"baseUrl\":\"") - 1);

    t->base_url.data = p;
    p = ngx_cpymem(p, wlcf->client_prefix.data, wlcf->client_prefix.len);
    p = ngx_cpymem(p, h.data, h.len);
    t->base_url.len = p - t->base_url.data;

    p = ngx_cpymem(p, "\",\"url\":\"", sizeof("\",\"url\":\"") - 1);

    t->url.data = p;
    p = ngx_cpymem(p, t->base_url.data, t->base_url.len);
    p = ngx_cpymem(p, "?access_token=", sizeof("?access_token=") - 1);
    p = ngx_cpymem(p, t->token.data, t->token.len);
    t->url.len = p - t->url.data;

    *p++ = '"';
    *p++ = '}';

    t->answer.data = json;
    t->answer.len = p - json;

    return NGX_OK;
}


/* baseUrl and url, built locally around the token as the SDKs do */

static ngx_int_t
ngx_http_webpubsub_token_urls(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t)
{
    u_char      *p;
    size_t       len, path_len;
    const char  *path;

    path = ngx_webpubsub_client_path(wlcf->protocol);
    path_len = ngx_strlen(path);

    len = wlcf->client_base.len + path_len + t->hub.len;

    t->base_url.data = ngx_pnalloc(r->pool,
                                   len + sizeof("?access_token=") - 1
                                   + t->token.len);
    if (t->base_url.data == NULL) {
        return NGX_ERROR;
    }

    t->base_url.len = len;

    p = ngx_cpymem(t->base_url.data, wlcf->client_base.data,
                   wlcf->client_base.len);
    p = ngx_cpymem(p, path, path_len);
    p = ngx_cpymem(p, t->hub.data, t->hub.len);

    /* the url shares the base URL's memory: it is base + query */
    t->url.data = t->base_url.data;

    p = ngx_cpymem(p, "?access_token=", sizeof("?access_token=") - 1);
    p = ngx_cpymem(p, t->token.data, t->token.len);

    t->url.len = p - t->url.data;

    return NGX_OK;
}


/*
 * The arguments of generate_client_token, as the JS SDK sends them for
 * getClientAccessToken() with a credential: the ttl in minutes, rounded
 * up; clientType only for MQTT (the REST API takes no Socket.IO type).
 */

static ngx_int_t
ngx_http_webpubsub_token_args(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_token_t *t,
    ngx_webpubsub_claims_t *claims)
{
    u_char                     *p;
    ngx_webpubsub_str_t        *v;
    ngx_webpubsub_rest_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_webpubsub_rest_args_t));
    v = ngx_palloc(r->pool, 3 * sizeof(ngx_webpubsub_str_t));
    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);

    if (args == NULL || v == NULL || p == NULL) {
        return NGX_ERROR;
    }

    if (claims->sub.len) {
        v[0] = claims->sub;
        args->v[NGX_WEBPUBSUB_REST_USER] = &v[0];
        args->n[NGX_WEBPUBSUB_REST_USER] = 1;
    }

    args->v[NGX_WEBPUBSUB_REST_ROLE] = claims->roles;
    args->n[NGX_WEBPUBSUB_REST_ROLE] = claims->nroles;
    args->v[NGX_WEBPUBSUB_REST_GROUP] = claims->groups;
    args->n[NGX_WEBPUBSUB_REST_GROUP] = claims->ngroups;

    v[1].data = p;
    v[1].len = ngx_sprintf(p, "%T", (wlcf->ttl + 59) / 60) - p;
    args->v[NGX_WEBPUBSUB_REST_TTL_MINUTES] = &v[1];
    args->n[NGX_WEBPUBSUB_REST_TTL_MINUTES] = 1;

    if (wlcf->protocol == NGX_WEBPUBSUB_PROTOCOL_MQTT) {
        v[2].data = (u_char *) "mqtt";
        v[2].len = sizeof("mqtt") - 1;
        args->v[NGX_WEBPUBSUB_REST_PROTOCOL] = &v[2];
        args->n[NGX_WEBPUBSUB_REST_PROTOCOL] = 1;
    }

    if (claims->nroles > NGX_WEBPUBSUB_REST_VALUES_MAX
        || claims->ngroups > NGX_WEBPUBSUB_REST_VALUES_MAX)
    {
        t->status = NGX_HTTP_BAD_REQUEST;
        ngx_str_set(&t->reason, "more than 100 roles or groups");
        t->refused = NGX_HTTP_WEBPUBSUB_NEG_TOO_MANY;
        return NGX_OK;
    }

    t->args = args;
    t->pending = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webpubsub_eval_values(ngx_http_request_t *r, ngx_array_t *cvs,
    const ngx_webpubsub_str_t **out, size_t *n,
    ngx_http_webpubsub_token_t *t, const char *too_long)
{
    ngx_str_t                  s;
    ngx_uint_t                 i;
    ngx_webpubsub_str_t       *a;
    ngx_http_complex_value_t  *cv;

    *out = NULL;
    *n = 0;

    if (cvs == NULL || cvs->nelts == 0) {
        return NGX_OK;
    }

    a = ngx_palloc(r->pool, cvs->nelts * sizeof(ngx_webpubsub_str_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    cv = cvs->elts;

    for (i = 0; i < cvs->nelts; i++) {
        if (ngx_http_complex_value(r, &cv[i], &s) != NGX_OK) {
            return NGX_ERROR;
        }

        /* an unset variable means "not this one", not an empty name */
        if (s.len == 0) {
            continue;
        }

        if (s.len > NGX_HTTP_WEBPUBSUB_VALUE_MAX) {
            t->status = NGX_HTTP_BAD_REQUEST;
            t->reason.data = (u_char *) too_long;
            t->reason.len = ngx_strlen(too_long);

            return NGX_OK;
        }

        a[*n].data = s.data;
        a[*n].len = s.len;
        (*n)++;
    }

    *out = a;

    return NGX_OK;
}
