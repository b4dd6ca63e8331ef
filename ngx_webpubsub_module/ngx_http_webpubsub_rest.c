
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * REST through subrequests: a location turns a plain local call into the
 * signed Web PubSub REST call the SDKs make, and sends it as an in-memory
 * subrequest to an internal location that proxies to the service.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_rest.h"
#include "ngx_http_webpubsub_fetch.h"
#include "ngx_webpubsub_reply.h"
#include "ngx_http_webpubsub_status.h"


/* a REST token needs to outlive the call only; the service allows 5m skew */
#define NGX_HTTP_WEBPUBSUB_REST_TOKEN_TTL  60

/* pages of list_connections followed for one call */
#define NGX_HTTP_WEBPUBSUB_REST_PAGES_MAX  1000

/* a token is signed again for the same URL after this many seconds */
#define NGX_HTTP_WEBPUBSUB_REST_TOKEN_REUSE  30

/*
 * The pool of one call: its subrequest, token and proxy buffers.  A call
 * takes over 4k (its request, contexts, variables, upstream); in a pool
 * that holds it in one block, no allocation walks a chain of blocks.
 * Allocations up to 8k come from that block too, where nginx's default
 * limit (a page) would malloc() and free() the proxy's answer buffer
 * (proxy_buffer_size, 4k or 8k) on every call; not under AddressSanitizer,
 * where a buffer of its own is one whose overflow is caught.
 */
#define NGX_HTTP_WEBPUBSUB_REST_POOL_SIZE  16384
#define NGX_HTTP_WEBPUBSUB_REST_POOL_MAX   8192

/*
 * Call pools kept for the next calls of a worker, once their calls are
 * over: a busy REST location then neither allocates nor frees a pool per
 * call, and its calls work in memory the CPU's caches still hold, where a
 * freed 16k block would go back to malloc and, at the heap's top, to the
 * kernel, to be faulted in again by the next call.
 */
#define NGX_HTTP_WEBPUBSUB_REST_SPARE      32

/*
 * Under AddressSanitizer a kept pool is poisoned until it is taken again,
 * so that a call's memory still used after its call is caught as it would
 * be once freed.
 */
#if (defined __SANITIZE_ADDRESS__)
#define NGX_HTTP_WEBPUBSUB_ASAN  1
#elif (defined __has_feature)
#if (__has_feature(address_sanitizer))
#define NGX_HTTP_WEBPUBSUB_ASAN  1
#endif
#endif

#if (NGX_HTTP_WEBPUBSUB_ASAN)
#include <sanitizer/asan_interface.h>
#define ngx_http_webpubsub_poison(p, n)    ASAN_POISON_MEMORY_REGION(p, n)
#define ngx_http_webpubsub_unpoison(p, n)  ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ngx_http_webpubsub_poison(p, n)
#define ngx_http_webpubsub_unpoison(p, n)
#endif


/*
 * The last token of a location and its URL, per worker: the same call
 * made again (a send to the same group, say) reuses it rather than
 * computing an HMAC, while it has at least half its life left.
 */

typedef struct {
    time_t                     iat;
    size_t                     url_len;
    size_t                     token_len;
    u_char                     url[1024];
    u_char                     token[2048];

    /*
     * A location whose hub and values are all constants makes the same
     * call every time: it is worked out and checked once, at start, and
     * only its URL and body are taken per call.  fixed_url.len 0: per
     * call.
     */
    ngx_str_t                  fixed_url;
    ngx_str_t                  fixed_unparsed;
    ngx_str_t                  fixed_args;
    ngx_str_t                  fixed_body;
} ngx_http_webpubsub_rest_cache_t;


typedef struct {
    ngx_int_t                  param;
    ngx_http_complex_value_t   value;
} ngx_http_webpubsub_rest_param_t;


/* a header a call sends, its name hashed once */
typedef struct {
    ngx_str_t                  key;
    u_char                    *lowcase_key;
    ngx_uint_t                 hash;
} ngx_http_webpubsub_rest_header_t;


/* the method of an operation as nginx numbers it */
typedef struct {
    ngx_str_t                  name;
    ngx_uint_t                 method;
} ngx_http_webpubsub_rest_method_t;


static ngx_int_t ngx_http_webpubsub_rest_prepare(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest,
    ngx_str_t *reason);
static ngx_int_t ngx_http_webpubsub_rest_message_type(ngx_http_request_t *r,
    ngx_http_webpubsub_rest_t *rest);
static ngx_int_t ngx_http_webpubsub_rest_slots(ngx_pool_t *pool,
    ngx_array_t *params, ngx_webpubsub_rest_args_t *args);
static ngx_int_t ngx_http_webpubsub_rest_groups(ngx_pool_t *pool,
    const ngx_webpubsub_rest_op_t *op, ngx_webpubsub_rest_args_t *args,
    ngx_str_t *body);
static ngx_int_t ngx_http_webpubsub_rest_fix(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf);
static ngx_int_t ngx_http_webpubsub_rest_url(ngx_pool_t *pool,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest,
    ngx_str_t *hub, ngx_webpubsub_rest_args_t *args);
static void ngx_http_webpubsub_rest_bearer(ngx_http_request_t *r);
static void ngx_http_webpubsub_rest_set_call(
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest,
    u_char *url, size_t len, u_char *q);
static void ngx_http_webpubsub_rest_start(ngx_http_request_t *r);
static ngx_int_t ngx_http_webpubsub_rest_call(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest);
static ngx_int_t ngx_http_webpubsub_rest_subrequest(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest);
static ngx_int_t ngx_http_webpubsub_rest_next_pool(ngx_http_request_t *r,
    ngx_http_webpubsub_rest_t *rest);
static void ngx_http_webpubsub_rest_free_pool(void *data);
static ngx_pool_t *ngx_http_webpubsub_rest_take_pool(ngx_log_t *log);
static ngx_int_t ngx_http_webpubsub_rest_token(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest,
    ngx_str_t *token);
static ngx_uint_t ngx_http_webpubsub_rest_set_headers(ngx_table_elt_t *h,
    ngx_http_webpubsub_rest_t *rest);
static void ngx_http_webpubsub_rest_fill_header(ngx_table_elt_t *h,
    ngx_http_webpubsub_rest_header_t *name, u_char *value, size_t len);
static void ngx_http_webpubsub_rest_log_service(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_uint_t level, ngx_uint_t status,
    const char *what);
static ngx_int_t ngx_http_webpubsub_rest_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_webpubsub_rest_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_webpubsub_rest_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_webpubsub_rest_result(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest);
static ngx_int_t ngx_http_webpubsub_rest_page(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest,
    ngx_str_t *body, const char **err);
static ngx_int_t ngx_http_webpubsub_rest_send_list(ngx_http_request_t *r,
    ngx_http_webpubsub_rest_t *rest);
static ngx_int_t ngx_http_webpubsub_rest_forward(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_uint_t status, ngx_str_t *body);
static ngx_int_t ngx_http_webpubsub_rest_fail(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_uint_t status, char *reason);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

static ngx_pool_t  *ngx_http_webpubsub_rest_spare[
                                          NGX_HTTP_WEBPUBSUB_REST_SPARE];
static ngx_uint_t   ngx_http_webpubsub_rest_nspare;

/* :generateToken for negotiate, its hub per call: compiled at start */
static struct {
    const ngx_webpubsub_rest_op_t      *op;
    ngx_webpubsub_rest_tpl_t            tpl;
} ngx_http_webpubsub_rest_generate_tpl;

/* the headers of a call, hashed at start */
static ngx_http_webpubsub_rest_header_t  ngx_http_webpubsub_rest_content_type
    = { ngx_string("Content-Type"), (u_char *) "content-type", 0 };
static ngx_http_webpubsub_rest_header_t  ngx_http_webpubsub_rest_accept
    = { ngx_string("Accept"), (u_char *) "accept", 0 };

/* each operation's method and Accept, by its index in the table, at start */
static ngx_http_webpubsub_rest_method_t
    ngx_http_webpubsub_rest_methods[NGX_WEBPUBSUB_REST_NOPS];
static ngx_str_t  ngx_http_webpubsub_rest_accepts[NGX_WEBPUBSUB_REST_NOPS];

/* the service's answer headers a caller can act on */
static ngx_str_t  ngx_http_webpubsub_rest_forwarded[] = {
    ngx_string("Retry-After"),
    ngx_string("x-ms-error-code"),
    ngx_null_string
};


char *
ngx_http_webpubsub_rest(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webpubsub_loc_conf_t *wlcf = conf;

    int                                 param;
    u_char                             *eq;
    uint32_t                            seen;
    ngx_str_t                          *value, name, v;
    ngx_uint_t                          i;
    const char                         *err;
    ngx_http_core_loc_conf_t           *clcf;
    ngx_webpubsub_rest_args_t           args;
    const ngx_webpubsub_rest_op_t      *op;
    ngx_http_webpubsub_rest_param_t    *p;
    ngx_http_compile_complex_value_t    ccv;

    if (wlcf->rest_op != NULL) {
        return "is duplicate";
    }

    /* proxy_pass, webpubsub_token or another handler came first */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate: the location already has a content handler "
               "(proxy_pass, webpubsub_token, ...); a webpubsub_rest "
               "location must have no other";
    }

    value = cf->args->elts;

    op = ngx_webpubsub_rest_op(value[1].data, value[1].len);
    if (op == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_rest\" directive: unknown operation "
                           "\"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    wlcf->rest_params = ngx_array_create(cf->pool, cf->args->nelts,
                                    sizeof(ngx_http_webpubsub_rest_param_t));
    if (wlcf->rest_params == NULL) {
        return NGX_CONF_ERROR;
    }

    seen = 0;

    for (i = 2; i < cf->args->nelts; i++) {
        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webpubsub_rest\" directive: \"%V\" is not "
                               "name=value", &value[i]);
            return NGX_CONF_ERROR;
        }

        name.data = value[i].data;
        name.len = eq - value[i].data;

        param = ngx_webpubsub_rest_param(name.data, name.len);
        if (param < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webpubsub_rest\" directive: unknown "
                               "parameter \"%V\"", &name);
            return NGX_CONF_ERROR;
        }

        if (!(op->allowed & (1u << param))) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webpubsub_rest\" directive: operation "
                               "\"%V\" takes no parameter \"%V\"",
                               &value[1], &name);
            return NGX_CONF_ERROR;
        }

        if ((seen & (1u << param)) && !(op->repeated & (1u << param))) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"webpubsub_rest\" directive: parameter "
                               "\"%V\" is given more than once", &name);
            return NGX_CONF_ERROR;
        }

        if (wlcf->rest_params->nelts == NGX_WEBPUBSUB_REST_VALUES_MAX) {
            return "has more than 100 parameters";
        }

        seen |= 1u << param;

        p = ngx_array_push(wlcf->rest_params);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        p->param = param;

        v.data = eq + 1;
        v.len = value[i].data + value[i].len - v.data;

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &v;
        ccv.complex_value = &p->value;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        /* a value without variables is checked now, not per request */

        if (p->value.lengths == NULL && v.len) {
            err = ngx_webpubsub_rest_check_value(param, v.data, v.len);
            if (err != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"webpubsub_rest\" directive: parameter "
                                   "\"%V\" %s", &name, err);
                return NGX_CONF_ERROR;
            }
        }
    }

    /* what is required must at least be configured */

    ngx_memzero(&args, sizeof(ngx_webpubsub_rest_args_t));

    for (param = 0; param < NGX_WEBPUBSUB_REST_NPARAMS; param++) {
        args.n[param] = (seen >> param) & 1;
    }

    err = ngx_webpubsub_rest_check(op, &args, &param);
    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpubsub_rest\" directive: operation \"%V\" "
                           "needs parameter \"%s\"",
                           &value[1], ngx_webpubsub_rest_param_name(param));
        return NGX_CONF_ERROR;
    }

    wlcf->rest_cache = ngx_pcalloc(cf->pool,
                                   sizeof(ngx_http_webpubsub_rest_cache_t));
    if (wlcf->rest_cache == NULL) {
        return NGX_CONF_ERROR;
    }

    wlcf->rest_op = op;
    wlcf->rest_file = cf->conf_file->file.name.data;
    wlcf->rest_line = cf->conf_file->line;

    clcf->handler = ngx_http_webpubsub_rest_handler;

    return NGX_CONF_OK;
}


char *
ngx_http_webpubsub_merge_rest(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf, ngx_http_webpubsub_loc_conf_t *prev)
{
    char                      *rv;
    const char                *err;
    ngx_webpubsub_str_t        hub, aud, *bound;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_str_value(conf->rest_pass, prev->rest_pass, "");

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->rest_op == NULL && prev->rest_op != NULL && clcf->noname) {
        /*
         * An "if" block keeps its location's content handler, and a
         * "limit_except" block gets it here: either makes the location's
         * call, as proxy_pass's blocks do, and the call, checked and
         * compiled there, is shared.
         */

        if (clcf->lmt_excpt && clcf->handler == NULL) {
            clcf->handler = ngx_http_webpubsub_rest_handler;
        }

        conf->rest_op = prev->rest_op;
        conf->rest_params = prev->rest_params;
        conf->rest_cache = prev->rest_cache;
        conf->rest_file = prev->rest_file;
        conf->rest_line = prev->rest_line;
        conf->rest_tpl = prev->rest_tpl;
        conf->rest_token_tpl = prev->rest_token_tpl;

        return NGX_CONF_OK;
    }

    if (conf->rest_op == NULL) {
        return NGX_CONF_OK;
    }

    rv = ngx_http_webpubsub_check_location(cf, conf, "webpubsub_rest",
                                   ngx_http_webpubsub_rest_handler,
                                   conf->rest_file, conf->rest_line,
                                   conf->rest_pass.len
                                   ? NULL : "no webpubsub_rest_pass configured",
                                   ngx_strstr(conf->rest_op->path, "{hub}")
                                   != NULL);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /*
     * The path is compiled once; a hub without variables (checked where
     * it was set) is encoded into it, and then not evaluated per call.
     */

    bound = NULL;

    if (conf->hub != NULL && conf->hub->lengths == NULL) {
        hub.data = conf->hub->value.data;
        hub.len = conf->hub->value.len;
        bound = &hub;
    }

    conf->rest_tpl = ngx_palloc(cf->pool, sizeof(ngx_webpubsub_rest_tpl_t));
    if (conf->rest_tpl == NULL) {
        return NGX_CONF_ERROR;
    }

    err = ngx_webpubsub_rest_path_compile(conf->rest_op, bound,
                                          conf->rest_tpl);
    if (err != NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"webpubsub_rest\" in %s:%ui: the path of \"%s\" %s",
                      conf->rest_file, conf->rest_line, conf->rest_op->name,
                      err);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_webpubsub_rest_fix(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->keys == NULL) {
        /* Entra ID tokens */
        return NGX_CONF_OK;
    }

    /*
     * A REST token's claims are a client token's without roles, groups
     * or user, {"iat","exp","aud"}: a template with an empty audience
     * keeps the JWT up to the URL, made once a second, and a call with a
     * new URL encodes and hashes only the URL.  (A next page's absolute
     * link may spell the endpoint in another case, so the endpoint is
     * not part of it.)
     */

    aud.data = (u_char *) "";
    aud.len = 0;

    conf->rest_token_tpl = ngx_http_webpubsub_token_template(cf, conf, &aud,
                                                             NULL, 0, NULL, 0);

    return (conf->rest_token_tpl != NULL) ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/*
 * Empty arguments with a run of slots for each parameter, as many as
 * values of it are configured: the values go in per call (or once, for
 * constants), an empty one left out.
 */

static ngx_int_t
ngx_http_webpubsub_rest_slots(ngx_pool_t *pool, ngx_array_t *params,
    ngx_webpubsub_rest_args_t *args)
{
    int                               param;
    size_t                            len, n[NGX_WEBPUBSUB_REST_NPARAMS];
    ngx_uint_t                        i;
    ngx_webpubsub_str_t              *v;
    ngx_http_webpubsub_rest_param_t  *cp;

    v = ngx_palloc(pool, (params->nelts + 1) * sizeof(ngx_webpubsub_str_t));
    if (v == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(args, sizeof(ngx_webpubsub_rest_args_t));
    ngx_memzero(n, sizeof(n));

    cp = params->elts;

    for (i = 0; i < params->nelts; i++) {
        n[cp[i].param]++;
    }

    len = 0;

    for (param = 0; param < NGX_WEBPUBSUB_REST_NPARAMS; param++) {
        args->v[param] = v + len;
        len += n[param];
    }

    return NGX_OK;
}


/* the JSON body of an operation that sends groups; none for the others */

static ngx_int_t
ngx_http_webpubsub_rest_groups(ngx_pool_t *pool,
    const ngx_webpubsub_rest_op_t *op, ngx_webpubsub_rest_args_t *args,
    ngx_str_t *body)
{
    u_char  *p;

    if (op->body != NGX_WEBPUBSUB_REST_GROUPS) {
        return NGX_OK;
    }

    body->data = ngx_pnalloc(pool, ngx_webpubsub_rest_body_length(op, args));
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_webpubsub_rest_body(body->data, op, args);
    body->len = p - body->data;

    return NGX_OK;
}


/*
 * The call of a location whose hub and values are all constants, made
 * as ngx_http_webpubsub_rest_prepare() makes it per call.  Values that
 * fail the SDK's checks as a whole leave it to be refused per call, as
 * it would be.
 */

static ngx_int_t
ngx_http_webpubsub_rest_fix(ngx_conf_t *cf,
    ngx_http_webpubsub_loc_conf_t *conf)
{
    int                                 param;
    ngx_str_t                           hub, *value;
    ngx_uint_t                          i;
    ngx_webpubsub_str_t                *v;
    ngx_webpubsub_rest_args_t           args;
    ngx_http_webpubsub_rest_t           rest;
    const ngx_webpubsub_rest_op_t      *op;
    ngx_http_webpubsub_rest_cache_t    *cache;
    ngx_http_webpubsub_rest_param_t    *cp;

    op = conf->rest_op;
    cache = conf->rest_cache;
    cp = conf->rest_params->elts;

    if (conf->rest_tpl->hub || conf->endpoint == NULL) {
        return NGX_OK;
    }

    for (i = 0; i < conf->rest_params->nelts; i++) {
        if (cp[i].value.lengths != NULL) {
            return NGX_OK;
        }
    }

    if (ngx_http_webpubsub_rest_slots(cf->pool, conf->rest_params, &args)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* each non-empty value was checked by the directive */

    for (i = 0; i < conf->rest_params->nelts; i++) {
        value = &cp[i].value.value;

        if (value->len == 0) {
            continue;
        }

        param = cp[i].param;

        v = (ngx_webpubsub_str_t *) args.v[param] + args.n[param]++;
        v->data = value->data;
        v->len = value->len;
    }

    if (ngx_webpubsub_rest_check(op, &args, &param) != NULL) {
        return NGX_OK;
    }

    ngx_memzero(&rest, sizeof(ngx_http_webpubsub_rest_t));

    rest.op = op;
    rest.tpl = conf->rest_tpl;

    if (ngx_http_webpubsub_rest_groups(cf->pool, op, &args,
                                       &cache->fixed_body)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_null(&hub);

    if (ngx_http_webpubsub_rest_url(cf->pool, conf, &rest, &hub, &args)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cache->fixed_url = rest.url;
    cache->fixed_unparsed = rest.unparsed;
    cache->fixed_args = rest.args;

    return NGX_OK;
}


ngx_int_t
ngx_http_webpubsub_rest_handler(ngx_http_request_t *r)
{
    char                           *allow;
    ngx_int_t                       rc;
    ngx_str_t                       reason;
    ngx_uint_t                      allowed;
    ngx_http_request_t             *pr;
    ngx_http_webpubsub_ctx_t       *ctx;
    ngx_http_webpubsub_rest_t      *rest;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    static ngx_str_t  not_allowed = ngx_string("method not allowed");

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);

    /*
     * Only what reads may be a GET or a HEAD: a link checker, a prefetch
     * or an <img> must not close connections or send messages.
     */

    if (wlcf->rest_op->body == NGX_WEBPUBSUB_REST_MESSAGE) {
        allowed = NGX_HTTP_POST|NGX_HTTP_PUT;
        allow = "POST, PUT";

    } else if (wlcf->rest_op->method[0] == 'G'
               || wlcf->rest_op->method[0] == 'H')
    {
        allowed = NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST;
        allow = "GET, HEAD, POST";

    } else {
        allowed = NGX_HTTP_POST;
        allow = "POST";
    }

    if (!(r->method & allowed)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webpubsub: %s refused: method %V not allowed",
                      wlcf->rest_op->name, &r->method_name);
        ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_REST_REFUSED
                                 + NGX_HTTP_WEBPUBSUB_RR_METHOD);

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ngx_http_webpubsub_add_header(r, "Allow", allow) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webpubsub_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                             &not_allowed);
    }

    /*
     * Under a background request (mirror) a waited subrequest is never
     * made active, and the caller's connection would hang for good.
     */

    for (pr = r; pr; pr = pr->parent) {
        if (pr->background) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "webpubsub: webpubsub_rest cannot serve a "
                          "background subrequest (mirror)");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ctx = ngx_http_webpubsub_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rest = ngx_pcalloc(r->pool, sizeof(ngx_http_webpubsub_rest_t));
    if (rest == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->rest = rest;
    rest->op = wlcf->rest_op;
    rest->tpl = wlcf->rest_tpl;
    rest->conf = wlcf;

    rc = ngx_http_webpubsub_rest_prepare(r, wlcf, rest, &reason);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webpubsub: %s refused: %V", rest->op->name, &reason);

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webpubsub_send_error(r, rc, &reason);
    }

    /*
     * The body is read even where it is not sent: discarding it would go
     * on while the subrequest runs, with the subrequest's headers, and a
     * body not yet in would be taken for the next request.
     */

    rc = ngx_http_read_client_request_body(r, ngx_http_webpubsub_rest_start);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * Everything a call needs from the request and the configuration, checked
 * as the SDK checks it: NGX_OK, an error status with *reason, or
 * NGX_ERROR.
 */

static ngx_int_t
ngx_http_webpubsub_rest_prepare(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest,
    ngx_str_t *reason)
{
    int                                 param;
    ngx_int_t                           rc;
    ngx_str_t                           hub, value;
    ngx_uint_t                          i;
    const char                         *err;
    ngx_webpubsub_str_t                *v;
    ngx_webpubsub_rest_args_t           args;
    const ngx_webpubsub_rest_op_t      *op;
    ngx_http_webpubsub_rest_cache_t    *cache;
    ngx_http_webpubsub_rest_param_t    *cp;

    op = rest->op;

    if (op->body == NGX_WEBPUBSUB_REST_MESSAGE
        && ngx_http_webpubsub_rest_message_type(r, rest) != NGX_OK)
    {
        ngx_str_set(reason, "Content-Type must be text/plain, "
                            "application/json or application/octet-stream");
        ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_REST_REFUSED
                                 + NGX_HTTP_WEBPUBSUB_RR_CONTENT_TYPE);
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    cache = wlcf->rest_cache;

    if (cache->fixed_url.len) {
        /* made at start (ngx_http_webpubsub_rest_fix), read only */
        rest->url = cache->fixed_url;
        rest->unparsed = cache->fixed_unparsed;
        rest->args = cache->fixed_args;
        rest->body = cache->fixed_body;
        return NGX_OK;
    }

    ngx_str_null(&hub);

    if (rest->tpl->hub) {
        rc = ngx_http_webpubsub_eval_hub(r, wlcf, &hub, reason);
        if (rc == NGX_DECLINED) {
            ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_REST_REFUSED
                                     + NGX_HTTP_WEBPUBSUB_RR_BAD_HUB);
            return NGX_HTTP_BAD_REQUEST;
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }

    /* the values, an empty one dropped, sorted by parameter */

    cp = wlcf->rest_params->elts;

    if (ngx_http_webpubsub_rest_slots(r->pool, wlcf->rest_params, &args)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < wlcf->rest_params->nelts; i++) {
        if (ngx_http_complex_value(r, &cp[i].value, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value.len == 0) {
            continue;
        }

        param = cp[i].param;

        err = ngx_webpubsub_rest_check_value(param, value.data, value.len);
        if (err != NULL) {
            goto invalid;
        }

        v = (ngx_webpubsub_str_t *) args.v[param] + args.n[param]++;
        v->data = value.data;
        v->len = value.len;
    }

    err = ngx_webpubsub_rest_check(op, &args, &param);
    if (err != NULL) {
        goto invalid;
    }

    if (ngx_http_webpubsub_rest_groups(r->pool, op, &args, &rest->body)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_webpubsub_rest_url(r->pool, wlcf, rest, &hub, &args);

invalid:

    ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_REST_REFUSED
                             + NGX_HTTP_WEBPUBSUB_RR_BAD_PARAMETER);

    reason->len = sizeof("parameter \"\" ") - 1
                  + ngx_strlen(ngx_webpubsub_rest_param_name(param))
                  + ngx_strlen(err);

    reason->data = ngx_pnalloc(r->pool, reason->len);
    if (reason->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(reason->data, "parameter \"%s\" %s",
                ngx_webpubsub_rest_param_name(param), err);

    return NGX_HTTP_BAD_REQUEST;
}


/* the URL of a call: "endpoint/path?query", the REST token's audience */

static ngx_int_t
ngx_http_webpubsub_rest_url(ngx_pool_t *pool,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest,
    ngx_str_t *hub, ngx_webpubsub_rest_args_t *args)
{
    u_char                *url, *p, *q;
    size_t                 len;
    ngx_webpubsub_str_t    shub;

    shub.data = hub->data;
    shub.len = hub->len;

    len = wlcf->endpoint->len
          + ngx_webpubsub_rest_path_length(rest->tpl, &shub, args)
          + 1 + ngx_webpubsub_rest_query_length(rest->op, args);

    url = ngx_pnalloc(pool, len);
    if (url == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url, wlcf->endpoint->buf, wlcf->endpoint->len);
    q = ngx_webpubsub_rest_path(p, rest->tpl, &shub, args);
    *q = '?';
    p = ngx_webpubsub_rest_query(q + 1, rest->op, args);

    ngx_http_webpubsub_rest_set_call(wlcf, rest, url, p - url, q);

    return NGX_OK;
}


/*
 * generate_client_token for negotiate on a resource without keys: the
 * call is made as a webpubsub_rest location would make it, and its
 * {"token"} goes to done() instead of the caller.  As
 * ngx_http_webpubsub_rest_call() returns; after NGX_DONE, *answered is
 * what sending the answer returned.
 */

ngx_int_t
ngx_http_webpubsub_rest_generate(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_str_t *hub,
    ngx_webpubsub_rest_args_t *args, ngx_http_webpubsub_rest_token_pt done,
    ngx_int_t *answered)
{
    ngx_int_t                   rc;
    ngx_http_request_t         *pr;
    ngx_http_webpubsub_ctx_t   *ctx;
    ngx_http_webpubsub_rest_t  *rest;

    for (pr = r; pr; pr = pr->parent) {
        if (pr->background) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "webpubsub: a token without an access key cannot "
                          "be made for a background subrequest (mirror)");
            return NGX_ERROR;
        }
    }

    ctx = ngx_http_webpubsub_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    rest = ngx_pcalloc(r->pool, sizeof(ngx_http_webpubsub_rest_t));
    if (rest == NULL) {
        return NGX_ERROR;
    }

    ctx->rest = rest;
    rest->op = ngx_http_webpubsub_rest_generate_tpl.op;
    rest->tpl = &ngx_http_webpubsub_rest_generate_tpl.tpl;
    rest->conf = wlcf;
    rest->token_done = done;

    if (ngx_http_webpubsub_rest_url(r->pool, wlcf, rest, hub, args)
        != NGX_OK
        || ngx_http_webpubsub_rest_next_pool(r, rest) != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_webpubsub_rest_call(r, wlcf, rest);

    if (rc == NGX_DONE) {
        *answered = rest->answer_rc;
    }

    return rc;
}


/* the caller's media type, sent on in the SDK's spelling */

static ngx_int_t
ngx_http_webpubsub_rest_message_type(ngx_http_request_t *r,
    ngx_http_webpubsub_rest_t *rest)
{
    u_char      *p, *end;
    ngx_str_t    type;
    ngx_uint_t   i;

    static ngx_str_t  types[] = {
        ngx_string("text/plain"),
        ngx_string("application/json"),
        ngx_string("application/octet-stream"),
        ngx_null_string
    };

    if (r->headers_in.content_type == NULL) {
        return NGX_DECLINED;
    }

    type = r->headers_in.content_type->value;
    end = type.data + type.len;

    p = ngx_strlchr(type.data, end, ';');
    if (p != NULL) {
        end = p;
    }

    while (end > type.data && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    type.len = end - type.data;

    /* as the SDK spells it, mostly: a byte compare is enough then */

    for (i = 0; types[i].len; i++) {
        if (type.len == types[i].len
            && (ngx_memcmp(type.data, types[i].data, type.len) == 0
                || ngx_strncasecmp(type.data, types[i].data, type.len) == 0))
        {
            rest->content_type = types[i];
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The call to make, from its absolute URL, the token's audience, and
 * where its query starts (q, its "?"; NULL: to be found).
 */

static void
ngx_http_webpubsub_rest_set_call(ngx_http_webpubsub_loc_conf_t *wlcf,
    ngx_http_webpubsub_rest_t *rest, u_char *url, size_t len, u_char *q)
{
    rest->url.data = url;
    rest->url.len = len;

    /* on the wire: everything after the origin, as the SDK sends it */

    rest->unparsed.data = url + wlcf->endpoint->path_start;
    rest->unparsed.len = len - wlcf->endpoint->path_start;

    if (q == NULL) {
        q = ngx_strlchr(url, url + len, '?');
    }

    if (q != NULL) {
        rest->args.data = q + 1;
        rest->args.len = url + len - q - 1;

    } else {
        ngx_str_null(&rest->args);
    }
}


/* the body is in: the first call goes out */

static void
ngx_http_webpubsub_rest_start(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_webpubsub_ctx_t       *ctx;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);
    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);

    if (ngx_http_webpubsub_rest_next_pool(r, ctx->rest) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_webpubsub_rest_call(r, wlcf, ctx->rest);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);

    } else if (rc == NGX_DONE) {
        ngx_http_finalize_request(r, ctx->rest->answer_rc);
    }
}


/* the Entra token a call waited for has come, or its fetch failed */

static void
ngx_http_webpubsub_rest_bearer(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_webpubsub_ctx_t       *ctx;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);
    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);

    if (ctx == NULL || ctx->rest == NULL || !ctx->rest->waiting) {
        return;
    }

    ctx->rest->waiting = 0;

    rc = ngx_http_webpubsub_rest_call(r, wlcf, ctx->rest);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);

    } else if (rc == NGX_DONE) {
        ngx_http_finalize_request(r, ctx->rest->answer_rc);
    }
}


/*
 * A pool for the next call, and the one before the last given back (to
 * the worker's kept pools, or freed): by now
 * nothing refers to it (its subrequest ended a whole call ago, and every
 * request posted then has run), unless the subrequest is still postponed
 * in r's output, where it stays until r ends.
 */

static ngx_int_t
ngx_http_webpubsub_rest_next_pool(ngx_http_request_t *r,
    ngx_http_webpubsub_rest_t *rest)
{
    ngx_pool_t                    *pool;
    ngx_pool_cleanup_t            *cln;
    ngx_http_postponed_request_t  *pr;

    cln = rest->old;

    if (cln != NULL && cln->data != NULL) {
        for (pr = r->postponed; pr; pr = pr->next) {
            if (pr->request && pr->request->pool == cln->data) {
                break;
            }
        }

        if (pr == NULL) {
            ngx_http_webpubsub_rest_free_pool(cln->data);
            cln->data = NULL;

        } else {
            cln = NULL;
        }
    }

    if (cln == NULL) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_webpubsub_rest_free_pool;
        cln->data = NULL;
    }

    pool = ngx_http_webpubsub_rest_take_pool(r->connection->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    cln->data = pool;

    rest->old = rest->cur;
    rest->cur = cln;
    rest->pool = pool;

    return NGX_OK;
}


static ngx_pool_t *
ngx_http_webpubsub_rest_take_pool(ngx_log_t *log)
{
    ngx_pool_t  *pool;

    if (ngx_http_webpubsub_rest_nspare == 0) {
        pool = ngx_create_pool(NGX_HTTP_WEBPUBSUB_REST_POOL_SIZE, log);

#if !(NGX_HTTP_WEBPUBSUB_ASAN)
        if (pool != NULL && pool->max < NGX_HTTP_WEBPUBSUB_REST_POOL_MAX) {
            pool->max = NGX_HTTP_WEBPUBSUB_REST_POOL_MAX;
        }
#endif

        return pool;
    }

    pool = ngx_http_webpubsub_rest_spare[--ngx_http_webpubsub_rest_nspare];

    ngx_http_webpubsub_unpoison(pool, NGX_HTTP_WEBPUBSUB_REST_POOL_SIZE);

    pool->log = log;

    return pool;
}


/*
 * A call's pool once nothing refers to it: what ngx_destroy_pool() does
 * to it, its cleanups run and its large allocations freed, but the block
 * kept, unless the pool grew past it (a long page, say) or enough are
 * kept already.
 */

static void
ngx_http_webpubsub_rest_free_pool(void *data)
{
    ngx_pool_t          *pool;
    ngx_pool_cleanup_t  *c;

    pool = data;

    if (pool == NULL) {
        return;
    }

    if (pool->d.next != NULL
        || ngx_http_webpubsub_rest_nspare == NGX_HTTP_WEBPUBSUB_REST_SPARE)
    {
        ngx_destroy_pool(pool);
        return;
    }

    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler) {
            c->handler(c->data);
        }
    }

    pool->cleanup = NULL;

    ngx_reset_pool(pool);

    ngx_http_webpubsub_rest_spare[ngx_http_webpubsub_rest_nspare++] = pool;

    ngx_http_webpubsub_poison(pool, NGX_HTTP_WEBPUBSUB_REST_POOL_SIZE);
}


void
ngx_http_webpubsub_rest_exit_process(void)
{
    ngx_pool_t  *pool;

    while (ngx_http_webpubsub_rest_nspare) {
        pool = ngx_http_webpubsub_rest_spare[--ngx_http_webpubsub_rest_nspare];

        ngx_http_webpubsub_unpoison(pool, NGX_HTTP_WEBPUBSUB_REST_POOL_SIZE);

        /*
         * Its log was its last call's connection's, gone by now (a pool
         * taken again gets its new call's).
         */
        pool->log = ngx_cycle->log;

        ngx_destroy_pool(pool);
    }
}


/*
 * A call, made in its own pool (the parent's pool while it is made):
 * NGX_OK once under way (or waiting for an Entra token), NGX_ERROR, or
 * NGX_DONE once the caller has been answered (no Entra token), with what
 * sending the answer returned in rest->answer_rc.
 */

static ngx_int_t
ngx_http_webpubsub_rest_call(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest)
{
    ngx_int_t    rc;
    ngx_pool_t  *pool;

    if (wlcf->keys == NULL) {
        rc = ngx_http_webpubsub_credential_token(r, wlcf, &rest->bearer,
                                            ngx_http_webpubsub_rest_bearer);
        if (rc == NGX_AGAIN) {
            rest->waiting = 1;
            return NGX_OK;
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc != NGX_OK) {
            /* no token: the caller is answered, nothing goes out */
            ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_FAULTS
                                     + NGX_HTTP_WEBPUBSUB_FAULT_IDENTITY);

            if (rest->token_done) {
                ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_NEG_REFUSED
                                         + NGX_HTTP_WEBPUBSUB_NEG_IDENTITY);
            }

            rest->answer_rc = ngx_http_webpubsub_fetch_fail(r);
            return NGX_DONE;
        }
    }

    pool = r->pool;
    r->pool = rest->pool;

    rc = ngx_http_webpubsub_rest_subrequest(r, wlcf, rest);

    r->pool = pool;

    return rc;
}


static ngx_int_t
ngx_http_webpubsub_rest_subrequest(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest)
{
    u_char                       *p;
    off_t                         length;
    ngx_str_t                     token;
    ngx_uint_t                    n;
    ngx_list_t                   *list;
    ngx_chain_t                  *cl;
    ngx_table_elt_t              *h;
    ngx_http_request_t           *sr;
    ngx_http_request_body_t      *rb;
    ngx_http_variable_value_t    *variables;
    ngx_http_core_main_conf_t    *cmcf;
    ngx_http_post_subrequest_t   *ps;
    ngx_http_webpubsub_rest_method_t
                                 *m;

    /* all that can fail first: a subrequest, once made, will run */

    if (wlcf->keys == NULL) {
        token = rest->bearer;

    } else if (ngx_http_webpubsub_rest_token(r, wlcf, rest, &token)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * The token goes in only once the subrequest is in the location it
     * must run in (ngx_http_webpubsub_rest_route), never before.  It is
     * copied now: a token of the cache may change before then.
     */

    rest->authorization.len = sizeof("Bearer ") - 1 + token.len;

    p = ngx_pnalloc(r->pool, rest->authorization.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    rest->authorization.data = p;
    ngx_memcpy(ngx_cpymem(p, "Bearer ", sizeof("Bearer ") - 1),
               token.data, token.len);

    /* room for the Authorization header to come, too */

    h = ngx_palloc(r->pool, 4 * sizeof(ngx_table_elt_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    n = ngx_http_webpubsub_rest_set_headers(h, rest);

    rb = NULL;

    switch (rest->op->body) {

    case NGX_WEBPUBSUB_REST_MESSAGE:
        /*
         * The caller's body, shared: proxy sends copies of its buffer
         * structs, so that the buffers stay as they are for a retry.
         */

        rb = r->request_body;
        length = 0;

        for (cl = rb ? rb->bufs : NULL; cl; cl = cl->next) {
            length += ngx_buf_size(cl->buf);
        }

        break;

    case NGX_WEBPUBSUB_REST_GROUPS:
        rb = ngx_http_webpubsub_body(r->pool, &rest->body);
        if (rb == NULL) {
            return NGX_ERROR;
        }

        length = rest->body.len;
        break;

    case NGX_WEBPUBSUB_REST_EMPTY:
        length = 0;
        break;

    default: /* NGX_WEBPUBSUB_REST_NONE */
        length = -1;
    }

    /*
     * The subrequest's own variables: a value the caller's request has
     * cached ($http_cookie, say) must not be found there.
     */

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

    ps->handler = ngx_http_webpubsub_rest_done;
    ps->data = rest;

    /*
     * Routed by the configured URI alone, never by names a caller chose,
     * which a regex location could match; proxy_pass without a URI sends
     * the unparsed URI, the SDK's path and query, as it is.
     */

    if (ngx_http_subrequest(r, &wlcf->rest_pass, &rest->args, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rest->sr = sr;
    rest->started = ngx_http_webpubsub_clock();
    rest->done = 0;
    rest->routed = 0;
    rest->authorized = 0;
    rest->misrouted = 0;
    rest->capture.complete = 0;
    rest->capture.too_big = 0;
    rest->capture.out = NULL;

    m = &ngx_http_webpubsub_rest_methods[ngx_webpubsub_rest_op_index(rest->op)];
    sr->method_name = m->name;
    sr->method = m->method;

    sr->unparsed_uri = rest->unparsed;
    sr->valid_unparsed_uri = 1;

    /*
     * Headers of its own: the parent's (cookies, the caller's
     * Authorization, anything) must never reach the service.  The list
     * is set up as ngx_list_init() would, on the elements made above.
     */

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    sr->headers_in.content_length_n = length;
    sr->headers_in.keep_alive_n = -1;

    list = &sr->headers_in.headers;
    list->part.elts = h;
    list->part.nelts = n;
    list->part.next = NULL;
    list->last = &list->part;
    list->size = sizeof(ngx_table_elt_t);
    list->nalloc = 4;
    list->pool = r->pool;

    sr->request_body = rb;
    sr->discard_body = 0;
    sr->variables = variables;

    r->write_event_handler = ngx_http_webpubsub_rest_resume;

    return NGX_OK;
}


/*
 * The token of a call, signed or as signed for the same URL a moment
 * ago: then it is the cache's own, to be copied before anything else
 * can sign.
 */

static ngx_int_t
ngx_http_webpubsub_rest_token(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest,
    ngx_str_t *token)
{
    size_t                            len, scratch;
    time_t                            now;
    ngx_webpubsub_str_t               url, user;
    ngx_http_webpubsub_rest_cache_t  *cache;

    cache = wlcf->rest_cache;
    now = ngx_time();

    if (cache->url_len == rest->url.len
        && now >= cache->iat
        && now - cache->iat < NGX_HTTP_WEBPUBSUB_REST_TOKEN_REUSE
        && ngx_memcmp(cache->url, rest->url.data, rest->url.len) == 0)
    {
        token->data = cache->token;
        token->len = cache->token_len;

        return NGX_OK;
    }

    /* the whole URL in the place of a client token's hub */

    url.data = rest->url.data;
    url.len = rest->url.len;
    user.data = NULL;
    user.len = 0;

    ngx_webpubsub_token_length(wlcf->rest_token_tpl, &url, &user, &len,
                               &scratch);

    token->data = ngx_pnalloc(r->pool, len + scratch);
    if (token->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_webpubsub_token_sign(wlcf->rest_token_tpl, &url, &user, now,
                                 now + NGX_HTTP_WEBPUBSUB_REST_TOKEN_TTL,
                                 token->data, token->data + len, &token->len)
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: HMAC-SHA256 failed");
        return NGX_ERROR;
    }

    if (rest->url.len <= sizeof(cache->url)
        && token->len <= sizeof(cache->token))
    {
        cache->iat = now;
        cache->url_len = rest->url.len;
        cache->token_len = token->len;
        ngx_memcpy(cache->url, rest->url.data, rest->url.len);
        ngx_memcpy(cache->token, token->data, token->len);
    }

    return NGX_OK;
}


/*
 * The headers a call sends but Authorization, into h (room for 4): how
 * many.  The names were hashed at start.
 */

static ngx_uint_t
ngx_http_webpubsub_rest_set_headers(ngx_table_elt_t *h,
    ngx_http_webpubsub_rest_t *rest)
{
    ngx_str_t   *accept;
    ngx_uint_t   n;

    n = 0;

    if (rest->op->body == NGX_WEBPUBSUB_REST_MESSAGE) {
        ngx_http_webpubsub_rest_fill_header(&h[n++],
                                          &ngx_http_webpubsub_rest_content_type,
                                          rest->content_type.data,
                                          rest->content_type.len);

    } else if (rest->op->body == NGX_WEBPUBSUB_REST_GROUPS) {
        ngx_http_webpubsub_rest_fill_header(&h[n++],
                                          &ngx_http_webpubsub_rest_content_type,
                                          (u_char *) "application/json",
                                          sizeof("application/json") - 1);
    }

    accept = &ngx_http_webpubsub_rest_accepts[
                                         ngx_webpubsub_rest_op_index(rest->op)];

    if (accept->len) {
        ngx_http_webpubsub_rest_fill_header(&h[n++],
                                          &ngx_http_webpubsub_rest_accept,
                                          accept->data, accept->len);
    }

    return n;
}


static void
ngx_http_webpubsub_rest_fill_header(ngx_table_elt_t *h,
    ngx_http_webpubsub_rest_header_t *name, u_char *value, size_t len)
{
    h->key = name->key;
    h->lowcase_key = name->lowcase_key;
    h->hash = name->hash;
    h->value.data = value;
    h->value.len = len;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
}


/*
 * Called as the subrequest ends, perhaps more than once (an error page
 * follows a failure): only the first outcome counts.  An NGX_ERROR would
 * end the caller's request with it, which must get a 502 instead.
 */

ngx_int_t
ngx_http_webpubsub_rest_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_webpubsub_rest_t  *rest = data;

    if (rc == NGX_ERROR && !sr->connection->error) {
        /* the caller is still there: it gets a 502, not a dropped line */
        rc = NGX_OK;

        if (!rest->done && rest->sr == sr) {
            rest->done = 1;
            rest->rc = NGX_ERROR;
            rest->answered = sr->header_sent;
            rest->status = sr->headers_out.status;
        }

        return rc;
    }

    if (rest->done || rest->sr != sr || rc == NGX_AGAIN) {
        return rc;
    }

    rest->done = 1;
    rest->rc = rc;

    /* an error page is yet to be made: what the service said is now */
    rest->answered = sr->header_sent;
    rest->status = sr->headers_out.status;
    rest->http09 = (sr->http_version == NGX_HTTP_VERSION_9
                    && sr->parent->http_version != NGX_HTTP_VERSION_9);

    return rc;
}


/* the call whose subrequest r is, or NULL if r is none of the module's */

ngx_http_webpubsub_rest_t *
ngx_http_webpubsub_rest_of(ngx_http_request_t *r)
{
    if (r->post_subrequest == NULL
        || r->post_subrequest->handler != ngx_http_webpubsub_rest_done)
    {
        return NULL;
    }

    return r->post_subrequest->data;
}


/*
 * A call's answer goes to the module alone, which reads its status and
 * headers where the upstream put them: no other filter has anything to
 * do with it (the last one, for a subrequest, only marks it sent), and
 * to run them all would be a second pass through every module's
 * configuration on each call.
 */

static ngx_int_t
ngx_http_webpubsub_rest_header_filter(ngx_http_request_t *r)
{
    if (ngx_http_webpubsub_rest_of(r) == NULL) {
        return ngx_http_next_header_filter(r);
    }

    r->header_sent = 1;

    return NGX_OK;
}


/* the body of a call, kept by ngx_http_webpubsub_capture() */

static ngx_int_t
ngx_http_webpubsub_rest_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_webpubsub_rest_t  *rest;

    rest = ngx_http_webpubsub_rest_of(r);
    if (rest == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    return ngx_http_webpubsub_capture(r, in, &rest->capture,
                                      !rest->done && rest->sr == r);
}


/*
 * The answer of a subrequest the module made for itself, kept in
 * memory up to subrequest_output_buffer_size: with the in-memory
 * subrequest machinery, a larger one is an error of the client's
 * connection, which would then get no answer at all instead of a 502.
 * Nothing is passed on; "active" is false for an error page that follows
 * a failure, or what comes after the outcome was taken.
 */

ngx_int_t
ngx_http_webpubsub_capture(ngx_http_request_t *r, ngx_chain_t *in,
    ngx_http_webpubsub_capture_t *cap, ngx_uint_t active)
{
    off_t                       size;
    ssize_t                     n;
    ngx_buf_t                  *b, *out;
    ngx_chain_t                *cl;
    ngx_http_core_loc_conf_t   *clcf;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        size = ngx_buf_size(b);

        if ((b->last_in_chain || b->last_buf) && active) {
            /* upstream sends it only once the whole answer is in */
            cap->complete = 1;
        }

        if (size == 0 || !active || cap->too_big) {
            goto consumed;
        }

        if (cap->out == NULL) {
            clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

            if (r->headers_out.content_length_n
                > (off_t) clcf->subrequest_output_buffer_size)
            {
                cap->too_big = 1;
                goto consumed;
            }

            cap->out = ngx_create_temp_buf(r->pool,
                                    r->headers_out.content_length_n > 0
                                    ? (size_t) r->headers_out.content_length_n
                                    : clcf->subrequest_output_buffer_size);
            if (cap->out == NULL) {
                return NGX_ERROR;
            }
        }

        out = cap->out;

        if (size > out->end - out->last) {
            cap->too_big = 1;
            goto consumed;
        }

        if (ngx_buf_in_memory(b)) {
            out->last = ngx_cpymem(out->last, b->pos, size);

        } else {
            n = ngx_read_file(b->file, out->last, size, b->file_pos);

            if (n != size) {
                return NGX_ERROR;
            }

            out->last += n;
        }

    consumed:

        b->pos = b->last;

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_webpubsub_rest_init(ngx_conf_t *cf)
{
    size_t                             i, j;
    const char                        *err;
    ngx_http_webpubsub_rest_header_t  *h;
    const ngx_webpubsub_rest_op_t     *op;

    static ngx_http_webpubsub_rest_method_t  methods[] = {
        { ngx_string("GET"), NGX_HTTP_GET },
        { ngx_string("HEAD"), NGX_HTTP_HEAD },
        { ngx_string("POST"), NGX_HTTP_POST },
        { ngx_string("PUT"), NGX_HTTP_PUT },
        { ngx_string("DELETE"), NGX_HTTP_DELETE },
        { ngx_null_string, 0 }
    };

    /* the table has NGX_WEBPUBSUB_REST_NOPS operations (make unit) */

    for (i = 0; i < NGX_WEBPUBSUB_REST_NOPS; i++) {
        op = ngx_webpubsub_rest_op_at(i);

        for (j = 0; methods[j].name.len; j++) {
            if (ngx_strcmp(methods[j].name.data, op->method) == 0) {
                break;
            }
        }

        if (methods[j].name.len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "webpubsub: operation \"%s\" has method \"%s\"",
                          op->name, op->method);
            return NGX_ERROR;
        }

        ngx_http_webpubsub_rest_methods[i] = methods[j];

        if (op->accept) {
            ngx_http_webpubsub_rest_accepts[i].data = (u_char *) op->accept;
            ngx_http_webpubsub_rest_accepts[i].len = ngx_strlen(op->accept);
        }
    }

    h = &ngx_http_webpubsub_rest_content_type;
    h->hash = ngx_hash_key(h->lowcase_key, h->key.len);
    h = &ngx_http_webpubsub_rest_accept;
    h->hash = ngx_hash_key(h->lowcase_key, h->key.len);

    op = ngx_webpubsub_rest_op((u_char *) "generate_client_token",
                               sizeof("generate_client_token") - 1);
    if (op == NULL) {
        return NGX_ERROR;
    }

    err = ngx_webpubsub_rest_path_compile(op, NULL,
                                    &ngx_http_webpubsub_rest_generate_tpl.tpl);
    if (err != NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "webpubsub: the path of \"%s\" %s", op->name, err);
        return NGX_ERROR;
    }

    ngx_http_webpubsub_rest_generate_tpl.op = op;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_webpubsub_rest_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_webpubsub_rest_body_filter;

    return ngx_http_webpubsub_rest_route_init(cf);
}


static void
ngx_http_webpubsub_rest_resume(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_webpubsub_ctx_t       *ctx;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);

    if (ctx == NULL || ctx->rest == NULL || !ctx->rest->done
        || ctx->rest->sr == NULL)
    {
        return;
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webpubsub_module);

    rc = ngx_http_webpubsub_rest_result(r, wlcf, ctx->rest);

    if (rc == NGX_DONE) {
        /* the next page is on its way */
        return;
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_webpubsub_rest_result(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest)
{
    ngx_int_t            rc;
    ngx_str_t            body;
    const char          *err;
    ngx_http_request_t  *sr;

    sr = rest->sr;
    rest->sr = NULL;

    rc = ngx_http_webpubsub_rest_check_call(r, sr, rest);
    if (rc != NGX_DECLINED) {
        ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_REST_REFUSED
                                 + NGX_HTTP_WEBPUBSUB_RR_MISROUTED);
        return rc;
    }

    ngx_http_webpubsub_count_call(rest->op,
                                  (rest->answered && !rest->http09)
                                  ? rest->status : 0, rest->started);

    if (!rest->answered) {
        /* nothing came from the service: proxy gave up on it */

        if (rest->rc == NGX_HTTP_GATEWAY_TIME_OUT) {
            return ngx_http_webpubsub_rest_fail(r, sr,
                                      NGX_HTTP_GATEWAY_TIME_OUT,
                                      "the service did not answer in time");
        }

        return ngx_http_webpubsub_rest_fail(r, sr, NGX_HTTP_BAD_GATEWAY,
                                  "no valid response from the service");
    }

    if (rest->http09) {
        /* proxy passes a reply without a status line on as a 200 */
        return ngx_http_webpubsub_rest_fail(r, sr, NGX_HTTP_BAD_GATEWAY,
                                  "no valid HTTP response from the service");
    }

    if (rest->capture.out) {
        body.data = rest->capture.out->pos;
        body.len = rest->capture.out->last - rest->capture.out->pos;

    } else {
        ngx_str_null(&body);
    }

    if (rest->capture.too_big) {
        return ngx_http_webpubsub_rest_fail(r, sr, NGX_HTTP_BAD_GATEWAY,
                                  "the service's response exceeds "
                                  "subrequest_output_buffer_size");
    }

    if (rest->rc == NGX_ERROR
        || (sr->upstream && !rest->capture.complete)
        || (sr->method != NGX_HTTP_HEAD
            && sr->headers_out.content_length_n >= 0
            && (off_t) body.len != sr->headers_out.content_length_n))
    {
        return ngx_http_webpubsub_rest_fail(r, sr, NGX_HTTP_BAD_GATEWAY,
                                  "the service's response was cut short");
    }

    if (rest->status != NGX_HTTP_OK && rest->token_done
        && rest->status >= NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        /* negotiate's caller gets no service fault as its own answer */
        return ngx_http_webpubsub_rest_fail(r, sr, NGX_HTTP_BAD_GATEWAY,
                                  "the service could not make a token");
    }

    if (rest->status != NGX_HTTP_OK) {
        if (rest->token_done) {
            ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_NEG_REFUSED
                                     + NGX_HTTP_WEBPUBSUB_NEG_SERVICE);
        }

        if (rest->status == NGX_HTTP_UNAUTHORIZED
            || rest->status == NGX_HTTP_FORBIDDEN
            || rest->status == NGX_HTTP_TOO_MANY_REQUESTS
            || rest->status >= NGX_HTTP_INTERNAL_SERVER_ERROR)
        {
            /* the key, the resource or the service: the operator's affair */
            ngx_http_webpubsub_rest_log_service(r, sr, NGX_LOG_ERR,
                                                rest->status, NULL);

        } else if (rest->status >= NGX_HTTP_BAD_REQUEST
                   && !(rest->status == NGX_HTTP_NOT_FOUND
                        && sr->method == NGX_HTTP_HEAD))
        {
            /* a call the service found wrong: the caller's values */
            ngx_http_webpubsub_rest_log_service(r, sr, NGX_LOG_INFO,
                                                rest->status, NULL);
        }

        return ngx_http_webpubsub_rest_forward(r, sr, rest->status, &body);
    }

    switch (rest->op->result) {

    case NGX_WEBPUBSUB_REST_LIST:
        rc = ngx_http_webpubsub_rest_page(r, wlcf, rest, &body, &err);

        if (rc == NGX_DONE) {
            return rest->answer_rc;
        }

        if (rc != NGX_OK) {
            return ngx_http_webpubsub_rest_fail(r, sr, NGX_HTTP_BAD_GATEWAY,
                                                (char *) err);
        }

        if (rest->sr || rest->waiting) {
            return NGX_DONE;
        }

        return ngx_http_webpubsub_rest_send_list(r, rest);

    case NGX_WEBPUBSUB_REST_TOKEN:
        err = ngx_webpubsub_reply_token(body.data, body.len);

        if (err != NULL) {
            return ngx_http_webpubsub_rest_fail(r, sr, NGX_HTTP_BAD_GATEWAY,
                                                (char *) err);
        }

        if (rest->token_done) {
            return rest->token_done(r, &body);
        }

        /* fall through */

    default:
        return ngx_http_webpubsub_rest_forward(r, sr, rest->status, &body);
    }
}


/*
 * One page of list_connections: its connections join the list, and its
 * nextLink, if any, is followed with the next subrequest, as the SDK's
 * iterator follows it.  A page is kept only as the JSON text of its items,
 * so that a long list costs about its own size in memory.
 */

static ngx_int_t
ngx_http_webpubsub_rest_page(ngx_http_request_t *r,
    ngx_http_webpubsub_loc_conf_t *wlcf, ngx_http_webpubsub_rest_t *rest,
    ngx_str_t *body, const char **err)
{
    u_char                *url, *text, *link;
    size_t                 len, n;
    ngx_int_t              rc;
    ngx_buf_t             *b;
    ngx_pool_t            *pool;
    ngx_chain_t           *cl;
    ngx_webpubsub_page_t   page;

    /*
     * The items and nextLink are written into the page's own pool, then
     * the items are copied into r's at their exact length.  The body's
     * length is enough but for numbers written longer than they came
     * (1e5 as 100000.0), which take a second pass.
     */

    pool = rest->pool;

    text = ngx_pnalloc(pool, body->len);
    if (text == NULL) {
        *err = "out of memory";
        return NGX_ERROR;
    }

    *err = ngx_webpubsub_reply_page(body->data, body->len, &page, text,
                                    body->len);

    if (*err == NULL && !page.written) {
        text = ngx_pnalloc(pool, page.items_len + page.link_len);
        if (text == NULL) {
            *err = "out of memory";
            return NGX_ERROR;
        }

        *err = ngx_webpubsub_reply_page(body->data, body->len, &page, text,
                                        page.items_len + page.link_len);
    }

    if (*err != NULL) {
        return NGX_DECLINED;
    }

    link = text + page.items_len;

    *err = "out of memory";

    if (page.items) {
        /* "a,b" joins the list as ",a,b", or as its start */

        len = page.items_len + (rest->items ? 1 : 0);

        b = ngx_create_temp_buf(r->pool, len);
        cl = ngx_alloc_chain_link(r->pool);

        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        if (rest->items) {
            *b->last++ = ',';
        }

        b->last = ngx_cpymem(b->last, text, page.items_len);

        cl->buf = b;
        cl->next = NULL;

        if (rest->list == NULL) {
            rest->last = &rest->list;
        }

        *rest->last = cl;
        rest->last = &cl->next;
        rest->list_len += len;
        rest->items += page.items;
    }

    if (rest->capture.out) {
        /* freed now if a large block (over 8k); else it goes with the pool */
        ngx_pfree(rest->pool, rest->capture.out->start);
        rest->capture.out = NULL;
    }

    rest->pages++;

    if (!page.link) {
        ngx_pfree(pool, text);
        return NGX_OK;
    }

    if (rest->pages == NGX_HTTP_WEBPUBSUB_REST_PAGES_MAX) {
        *err = "the service returned more than 1000 pages";
        return NGX_DECLINED;
    }

    len = page.link_len;

    /* the next call's pool: the URL is its subrequest's */

    if (ngx_http_webpubsub_rest_next_pool(r, rest) != NGX_OK) {
        return NGX_ERROR;
    }

    url = ngx_pnalloc(rest->pool, NGX_WEBPUBSUB_ENDPOINT_MAX + len);
    if (url == NULL) {
        return NGX_ERROR;
    }

    *err = ngx_webpubsub_rest_next_link(wlcf->endpoint, link, len, url, &n);

    ngx_pfree(pool, text);

    if (*err != NULL) {
        *err = "the service's nextLink is not a URL on the endpoint";
        return NGX_DECLINED;
    }

    ngx_http_webpubsub_rest_set_call(wlcf, rest, url, n, NULL);

    rc = ngx_http_webpubsub_rest_call(r, wlcf, rest);

    if (rc == NGX_DONE) {
        /* no Entra token for the next page: the caller is answered */
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        *err = "the next page's subrequest could not be made";
        return NGX_ERROR;
    }

    if (rest->waiting) {
        /* for a token: no subrequest yet, but the list goes on */
        rest->sr = NULL;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webpubsub_rest_send_list(ngx_http_request_t *r,
    ngx_http_webpubsub_rest_t *rest)
{
    ngx_buf_t    *head, *tail;
    ngx_chain_t   out[2];

    static u_char     open[] = "{\"value\":[";
    static u_char     close[] = "]}";
    static ngx_str_t  type = ngx_string("application/json");

    head = ngx_calloc_buf(r->pool);
    tail = ngx_calloc_buf(r->pool);

    if (head == NULL || tail == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    head->pos = open;
    head->last = open + sizeof(open) - 1;
    head->memory = 1;

    tail->pos = close;
    tail->last = close + sizeof(close) - 1;
    tail->memory = 1;

    out[0].buf = head;
    out[0].next = rest->list;

    if (rest->list) {
        *rest->last = &out[1];

    } else {
        out[0].next = &out[1];
    }

    out[1].buf = tail;
    out[1].next = NULL;

    return ngx_http_webpubsub_send(r, NGX_HTTP_OK, &type, out,
                                   sizeof(open) - 1 + rest->list_len
                                   + sizeof(close) - 1);
}


/* the service's status, body and the headers a caller can act on */

static ngx_int_t
ngx_http_webpubsub_rest_forward(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_uint_t status, ngx_str_t *body)
{
    ngx_str_t         type;
    ngx_buf_t        *b;
    ngx_uint_t        i, j;
    ngx_chain_t       out;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *copy;

    part = &sr->headers_out.headers.part;
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

        if (h[i].hash == 0) {
            continue;
        }

        for (j = 0; ngx_http_webpubsub_rest_forwarded[j].len; j++) {
            if (h[i].key.len == ngx_http_webpubsub_rest_forwarded[j].len
                && ngx_strncasecmp(h[i].key.data,
                                   ngx_http_webpubsub_rest_forwarded[j].data,
                                   h[i].key.len)
                   == 0)
            {
                copy = ngx_list_push(&r->headers_out.headers);
                if (copy == NULL) {
                    return NGX_HTTP_INTERNAL_SERVER_ERROR;
                }

                *copy = h[i];
#if (nginx_version >= 1023000)
                copy->next = NULL;
#endif
            }
        }
    }

    if (body->len == 0) {
        return ngx_http_webpubsub_send(r, status, NULL, NULL, 0);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;

    out.buf = b;
    out.next = NULL;

    type.data = sr->headers_out.content_type.data;
    type.len = sr->headers_out.content_type_len;

    return ngx_http_webpubsub_send(r, status, &type, &out, body->len);
}


/* a fault of the service or of the way to it: the operator's to see */

static ngx_int_t
ngx_http_webpubsub_rest_fail(ngx_http_request_t *r, ngx_http_request_t *sr,
    ngx_uint_t status, char *reason)
{
    ngx_str_t                   s;
    ngx_http_webpubsub_ctx_t   *ctx;
    ngx_http_webpubsub_rest_t  *rest;

    s.data = (u_char *) reason;
    s.len = ngx_strlen(reason);

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);
    rest = ctx->rest;

    ngx_http_webpubsub_rest_log_service(r, sr, NGX_LOG_ERR,
                                        rest->answered ? rest->status : 0,
                                        reason);

    /* a 5xx of the service is counted with its call */

    if (!rest->answered || rest->http09
        || rest->status < NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_FAULTS
                                 + (!rest->answered
                                    ? (status == NGX_HTTP_GATEWAY_TIME_OUT
                                       ? NGX_HTTP_WEBPUBSUB_FAULT_TIMEOUT
                                       : NGX_HTTP_WEBPUBSUB_FAULT_UNREACHABLE)
                                    : NGX_HTTP_WEBPUBSUB_FAULT_BAD_RESPONSE));
    }

    if (rest->token_done) {
        ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_NEG_REFUSED
                                 + NGX_HTTP_WEBPUBSUB_NEG_SERVICE);
    }

    return ngx_http_webpubsub_send_error(r, status, &s);
}


/*
 * One line on what the service did: the operation, its status and its
 * x-ms-error-code (a code such as "Error.Unauthorized", never a secret).
 */

static void
ngx_http_webpubsub_rest_log_service(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_uint_t level, ngx_uint_t status,
    const char *what)
{
    ngx_str_t                   code;
    ngx_uint_t                  i;
    ngx_list_part_t            *part;
    ngx_table_elt_t            *h;
    ngx_http_webpubsub_ctx_t   *ctx;

    static ngx_str_t  none = ngx_string("none");

    ctx = ngx_http_get_module_ctx(r, ngx_http_webpubsub_module);

    code = none;

    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; status; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0
            && h[i].key.len == sizeof("x-ms-error-code") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "x-ms-error-code",
                               h[i].key.len)
               == 0)
        {
            code = h[i].value;
            code.len = ngx_min(code.len, 128);
            break;
        }
    }

    if (what == NULL) {
        ngx_log_error(level, r->connection->log, 0,
                      "webpubsub: %s: the service answered %ui "
                      "(x-ms-error-code: %V)",
                      ctx->rest->op->name, status, &code);
        return;
    }

    if (status) {
        ngx_log_error(level, r->connection->log, 0,
                      "webpubsub: %s: %s (status %ui, x-ms-error-code: %V)",
                      ctx->rest->op->name, what, status, &code);
        return;
    }

    ngx_log_error(level, r->connection->log, 0,
                  "webpubsub: %s: %s", ctx->rest->op->name, what);
}
