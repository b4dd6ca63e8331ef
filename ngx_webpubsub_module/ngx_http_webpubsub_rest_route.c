
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * A REST call runs only in the internal location that webpubsub_rest_pass
 * names: nginx -t checks what it can of every server, the token goes into
 * a subrequest only once it is in that location, and once the call is over
 * its answer counts only if the proxy there sent what was signed.  A
 * signed token must never reach another application, and another
 * application's 2xx must never pass for the service's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_rest.h"


/* of the request line a proxy sent, this much is logged */
#define NGX_HTTP_WEBPUBSUB_REST_LINE_LOG  256


/*
 * What nginx's lists and trees of locations hold: the locations' core
 * configurations, or, in Angie (found by config), a ngx_http_core_loc_t
 * of each that points to it.
 */
#if (NGX_HTTP_WEBPUBSUB_CORE_LOC)
typedef ngx_http_core_loc_t  ngx_http_webpubsub_loc_t;
#define ngx_http_webpubsub_loc_conf(loc)  (loc)->conf
#else
typedef ngx_http_core_loc_conf_t  ngx_http_webpubsub_loc_t;
#define ngx_http_webpubsub_loc_conf(loc)  (loc)
#endif


static ngx_int_t ngx_http_webpubsub_rest_check_route(ngx_http_request_t *sr,
    ngx_http_webpubsub_rest_t *rest);
static ngx_int_t ngx_http_webpubsub_rest_check_proxy(ngx_http_request_t *sr,
    ngx_http_webpubsub_rest_t *rest);
static ngx_int_t ngx_http_webpubsub_rest_check_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_webpubsub_rest_locations(ngx_array_t *a,
    ngx_http_core_loc_conf_t *pclcf);
static ngx_int_t ngx_http_webpubsub_rest_nested(ngx_array_t *a,
    ngx_http_core_loc_conf_t *pclcf);
static ngx_int_t ngx_http_webpubsub_rest_tree(ngx_array_t *a,
    ngx_http_location_tree_node_t *node);
static ngx_http_core_loc_conf_t *ngx_http_webpubsub_rest_find(
    ngx_array_t *all, ngx_str_t *pass);
static ngx_int_t ngx_http_webpubsub_check_pass(ngx_conf_t *cf,
    ngx_array_t *all, ngx_str_t *pass, const char *directive, u_char *file,
    ngx_uint_t line);


/*
 * What tags the upstream of proxy_pass: ngx_http_proxy_handler sets
 * u->output.tag to its module, and so does the HTTP/2 proxy of newer
 * nginx; found by name, as a dynamic module cannot link to them.
 */
static ngx_module_t  *ngx_http_webpubsub_proxy_module;
static ngx_module_t  *ngx_http_webpubsub_proxy_v2_module;

/* the hash of "authorization", worked out at start */
static ngx_uint_t     ngx_http_webpubsub_authorization_hash;

static ngx_str_t  ngx_http_webpubsub_rest_misrouted =
    ngx_string("webpubsub_rest_pass does not lead to an internal location "
               "that proxies to the service");
static ngx_str_t  ngx_http_webpubsub_rest_rewritten =
    ngx_string("the internal location does not send the signed path "
               "(a proxy_pass with a URI part?)");


/* an upstream of proxy_pass (HTTP/1.x, or HTTP/2 in newer nginx) */

ngx_uint_t
ngx_http_webpubsub_proxied(ngx_http_upstream_t *u)
{
    return u != NULL
           && ((ngx_http_webpubsub_proxy_module != NULL
                && u->output.tag
                   == (ngx_buf_tag_t) ngx_http_webpubsub_proxy_module)
               || (ngx_http_webpubsub_proxy_v2_module != NULL
                   && u->output.tag
                      == (ngx_buf_tag_t) ngx_http_webpubsub_proxy_v2_module));
}


ngx_int_t
ngx_http_webpubsub_rest_route_init(ngx_conf_t *cf)
{
    ngx_http_webpubsub_proxy_module =
        ngx_http_webpubsub_find_module(cf->cycle, "ngx_http_proxy_module");
    ngx_http_webpubsub_proxy_v2_module =
        ngx_http_webpubsub_find_module(cf->cycle, "ngx_http_proxy_v2_module");

    ngx_http_webpubsub_authorization_hash =
        ngx_hash_key((u_char *) "authorization",
                     sizeof("authorization") - 1);

    return ngx_http_webpubsub_rest_check_conf(cf);
}


/*
 * The precontent phase of a REST subrequest: the location it ended up in
 * is checked, and only then does the token go in.  Routing depends on the
 * whole server (a regex location, a shorter prefix, a server without the
 * internal location); a token must never go where the operator did not
 * send it, so anything but the named internal location is refused and
 * nothing is sent.  It runs again after every internal redirect (try_files,
 * error_page, X-Accel-Redirect), each time in the new location.
 */

ngx_int_t
ngx_http_webpubsub_rest_route(ngx_http_request_t *sr)
{
    ngx_table_elt_t            *h;
    ngx_http_webpubsub_rest_t  *rest;

    rest = ngx_http_webpubsub_rest_of(sr);

    if (rest == NULL || rest->sr != sr || rest->done) {
        return NGX_DECLINED;
    }

    if (ngx_http_webpubsub_rest_check_route(sr, rest) != NGX_OK) {
        /* the caller gets a 500: ngx_http_webpubsub_rest_result() */
        rest->routed = 0;
        rest->misrouted = 1;
        return NGX_ERROR;
    }

    rest->routed = 1;
    rest->routed_conf = sr->loc_conf;

    if (rest->authorized) {
        return NGX_DECLINED;
    }

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key.data = (u_char *) "Authorization";
    h->key.len = sizeof("Authorization") - 1;
    h->lowcase_key = (u_char *) "authorization";
    h->hash = ngx_http_webpubsub_authorization_hash;
    h->value = rest->authorization;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    rest->authorized = 1;

    return NGX_DECLINED;
}


/*
 * The location a subrequest is in must be the one webpubsub_rest_pass
 * names, exactly: not a regex location, not a shorter prefix, internal,
 * with a content handler.  Otherwise one error line says what to fix.
 */

static ngx_int_t
ngx_http_webpubsub_rest_check_route(ngx_http_request_t *sr,
    ngx_http_webpubsub_rest_t *rest)
{
    size_t                          olen;
    u_char                         *origin;
    ngx_str_t                      *pass;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    clcf = ngx_http_get_module_loc_conf(sr, ngx_http_core_module);
    wlcf = rest->conf;
    pass = &wlcf->rest_pass;

    origin = wlcf->endpoint->buf;
    olen = wlcf->endpoint->path_start;

#if (NGX_PCRE)
    if (clcf->regex) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "webpubsub: %s: webpubsub_rest_pass \"%V\" (of "
                      "webpubsub_rest in %s:%ui) matched the regex location "
                      "\"%V\": add \"location ^~ %V { internal; proxy_pass "
                      "%*s; }\" to this server, or make its location %V "
                      "\"^~\"; the token was not sent there",
                      rest->op->name, pass, wlcf->rest_file, wlcf->rest_line,
                      &clcf->name, pass, olen, origin, pass);
        return NGX_DECLINED;
    }
#endif

    if (clcf->name.len != pass->len
        || ngx_memcmp(clcf->name.data, pass->data, pass->len) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "webpubsub: %s: webpubsub_rest_pass \"%V\" (of "
                      "webpubsub_rest in %s:%ui) matched location \"%V\": "
                      "add \"location %V { internal; proxy_pass %*s; }\" "
                      "to this server; the token was not sent there",
                      rest->op->name, pass, wlcf->rest_file, wlcf->rest_line,
                      &clcf->name, pass, olen, origin);
        return NGX_DECLINED;
    }

    if (!clcf->internal) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "webpubsub: %s: location \"%V\" of webpubsub_rest_pass "
                      "(of webpubsub_rest in %s:%ui) is not internal: add "
                      "\"internal;\" to it; the token was not sent there",
                      rest->op->name, pass, wlcf->rest_file, wlcf->rest_line);
        return NGX_DECLINED;
    }

    /* an "if" block keeps the content handler of its location */

    if (sr->content_handler == NULL
        || sr->content_handler == ngx_http_webpubsub_rest_handler)
    {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "webpubsub: %s: location \"%V\" of webpubsub_rest_pass "
                      "(of webpubsub_rest in %s:%ui) has no proxy_pass: add "
                      "\"proxy_pass %*s;\" to it; the token was not sent "
                      "there",
                      rest->op->name, pass, wlcf->rest_file, wlcf->rest_line,
                      olen, origin);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Once the subrequest is over, what ran it: the proxy module (its tag on
 * the upstream) sending exactly the method, path and query signed.  A
 * proxy_pass with a URI part, a rewrite or proxy_method change them, and
 * the service refuses the token with a 401 or answers a 404 that would
 * otherwise reach the caller as the service's own word.
 */

static ngx_int_t
ngx_http_webpubsub_rest_check_proxy(ngx_http_request_t *sr,
    ngx_http_webpubsub_rest_t *rest)
{
    u_char                         *origin;
    size_t                          olen;
    ngx_str_t                       line;
    ngx_http_upstream_t            *u;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    u = sr->upstream;
    wlcf = rest->conf;
    clcf = ngx_http_get_module_loc_conf(sr, ngx_http_core_module);

    origin = wlcf->endpoint->buf;
    olen = wlcf->endpoint->path_start;

    if (!ngx_http_webpubsub_proxied(u)) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "webpubsub: %s: location \"%V\" of webpubsub_rest_pass "
                      "(of webpubsub_rest in %s:%ui) answered without "
                      "proxy_pass: make \"proxy_pass %*s;\" its only "
                      "content handler",
                      rest->op->name, &clcf->name, wlcf->rest_file,
                      wlcf->rest_line, olen, origin);
        return NGX_DECLINED;
    }

    if (ngx_http_webpubsub_sent(u, &sr->method_name, &rest->unparsed, &line)
        == NGX_OK)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                  "webpubsub: %s: location \"%V\" of webpubsub_rest_pass "
                  "(of webpubsub_rest in %s:%ui) sent \"%V\" instead of "
                  "\"%V %V\": remove the URI part of proxy_pass in location "
                  "\"%V\" (\"proxy_pass %*s;\"), and any rewrite or "
                  "proxy_method there",
                  rest->op->name, &clcf->name, wlcf->rest_file,
                  wlcf->rest_line, &line, &sr->method_name,
                  &rest->unparsed, &clcf->name, olen, origin);

    return NGX_DECLINED;
}


/*
 * What the proxy module sent: NGX_OK if its request line is "method uri
 * HTTP/1.x", or where it cannot be read (HTTP/2 frames); NGX_DECLINED
 * with the line it sent (at most 256 bytes) for the log.  The line is the
 * start of the first buffer, as ngx_http_proxy_create_request() makes it;
 * its pos moves as it is sent, its start does not.
 */

ngx_int_t
ngx_http_webpubsub_sent(ngx_http_upstream_t *u, ngx_str_t *method,
    ngx_str_t *uri, ngx_str_t *line)
{
    u_char     *p, *last;
    size_t      len;
    ngx_buf_t  *b;

    if (u->output.tag != (ngx_buf_tag_t) ngx_http_webpubsub_proxy_module
        || u->request_bufs == NULL || u->request_bufs->buf == NULL
        || !ngx_buf_in_memory(u->request_bufs->buf))
    {
        return NGX_OK;
    }

    b = u->request_bufs->buf;

    len = method->len + 1 + uri->len + sizeof(" HTTP/1.") - 1;

    if ((size_t) (b->last - b->start) >= len) {
        p = b->start;

        if (ngx_memcmp(p, method->data, method->len) == 0
            && p[method->len] == ' '
            && ngx_memcmp(p + method->len + 1, uri->data, uri->len) == 0
            && ngx_memcmp(p + len - (sizeof(" HTTP/1.") - 1), " HTTP/1.",
                          sizeof(" HTTP/1.") - 1)
               == 0)
        {
            return NGX_OK;
        }
    }

    last = ngx_strlchr(b->start, b->last, CR);
    if (last == NULL) {
        last = b->last;
    }

    line->data = b->start;
    line->len = ngx_min((size_t) (last - b->start),
                        NGX_HTTP_WEBPUBSUB_REST_LINE_LOG);

    return NGX_DECLINED;
}


/*
 * What nginx -t can tell of the internal location: in every server, each
 * webpubsub_rest location's webpubsub_rest_pass must name a location of
 * that server, exactly, that is internal, has a content handler and is
 * not a webpubsub_rest location itself.  Where a request goes then (a
 * regex location may still catch the URI) is checked per call.
 */

static ngx_int_t
ngx_http_webpubsub_rest_check_conf(ngx_conf_t *cf)
{
    size_t                          olen;
    u_char                         *origin;
    ngx_str_t                      *pass;
    ngx_uint_t                      s, i;
    ngx_array_t                     all;
    ngx_http_core_loc_conf_t      **clcfp, *clcf, *target;
    ngx_http_core_srv_conf_t      **cscfp;
    ngx_http_webpubsub_loc_t      **locp;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_webpubsub_loc_conf_t  *wlcf, *twlcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cscfp = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {

        if (ngx_array_init(&all, cf->temp_pool, 16,
                           sizeof(ngx_http_core_loc_conf_t *))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        clcf = cscfp[s]->ctx->loc_conf[ngx_http_core_module.ctx_index];

        if (ngx_http_webpubsub_rest_nested(&all, clcf) != NGX_OK) {
            return NGX_ERROR;
        }

        if (cscfp[s]->named_locations) {
            for (locp = cscfp[s]->named_locations; *locp; locp++) {
                if (ngx_http_webpubsub_rest_locations(&all,
                                             ngx_http_webpubsub_loc_conf(*locp))
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }
        }

        clcfp = all.elts;

        for (i = 0; i < all.nelts; i++) {
            wlcf = clcfp[i]->loc_conf[ngx_http_webpubsub_module.ctx_index];

            /* what fetches Entra ID tokens, and keys, goes somewhere too */

            if (wlcf->keys == NULL && wlcf->credential != NULL
                && (wlcf->rest_op != NULL || wlcf->token
                    || wlcf->token_variables)
                && ngx_http_webpubsub_check_pass(cf, &all,
                                    &wlcf->credential_pass,
                                    "webpubsub_credential_pass",
                                    wlcf->rest_file, wlcf->rest_line)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (wlcf->event_handler && wlcf->event_auth != NULL
                && ngx_http_webpubsub_check_pass(cf, &all,
                                    &wlcf->event_auth_pass,
                                    "webpubsub_event_auth_pass",
                                    wlcf->event_file, wlcf->event_line)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            if ((wlcf->token || wlcf->token_variables)
                && wlcf->keys == NULL && wlcf->credential != NULL
                && wlcf->rest_op == NULL)
            {
                /* negotiate without a key calls :generateToken */

                if (wlcf->rest_pass.len == 0) {
                    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                                  "\"%s\" directive in %s:%ui has a "
                                  "webpubsub_credential and no access key, "
                                  "so the service makes its tokens: add "
                                  "webpubsub_rest_pass and its internal "
                                  "location",
                                  wlcf->token ? "webpubsub_token"
                                              : "webpubsub_token_variables",
                                  wlcf->rest_file, wlcf->rest_line);
                    return NGX_ERROR;
                }

                if (ngx_http_webpubsub_check_pass(cf, &all, &wlcf->rest_pass,
                                                  "webpubsub_rest_pass",
                                                  wlcf->rest_file,
                                                  wlcf->rest_line)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }

            if (wlcf->rest_op == NULL) {
                continue;
            }

            pass = &wlcf->rest_pass;
            origin = wlcf->endpoint->buf;
            olen = wlcf->endpoint->path_start;

            if (ngx_http_webpubsub_proxy_module == NULL) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"webpubsub_rest\" directive in %s:%ui needs "
                              "nginx's proxy module, which this nginx is "
                              "built without", wlcf->rest_file,
                              wlcf->rest_line);
                return NGX_ERROR;
            }

            target = ngx_http_webpubsub_rest_find(&all, pass);

            if (target == NULL) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"webpubsub_rest\" directive in %s:%ui: its "
                              "server has no location \"%V\" of "
                              "webpubsub_rest_pass: add \"location %V "
                              "{ internal; proxy_pass %*s; }\" to it",
                              wlcf->rest_file, wlcf->rest_line, pass, pass,
                              olen, origin);
                return NGX_ERROR;
            }

            twlcf = target->loc_conf[ngx_http_webpubsub_module.ctx_index];

            if (target == clcfp[i] || twlcf->rest_op != NULL) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"webpubsub_rest\" directive in %s:%ui: "
                              "webpubsub_rest_pass \"%V\" names %s, not an "
                              "internal location that proxies to the "
                              "service", wlcf->rest_file, wlcf->rest_line,
                              pass,
                              target == clcfp[i]
                              ? "this webpubsub_rest location itself"
                              : "another webpubsub_rest location");
                return NGX_ERROR;
            }

            if (!target->internal) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"webpubsub_rest\" directive in %s:%ui: "
                              "location \"%V\" of webpubsub_rest_pass is "
                              "not internal: add \"internal;\" to it",
                              wlcf->rest_file, wlcf->rest_line, pass);
                return NGX_ERROR;
            }

            if (target->handler == NULL) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"webpubsub_rest\" directive in %s:%ui: "
                              "location \"%V\" of webpubsub_rest_pass has "
                              "no proxy_pass: add \"proxy_pass %*s;\" to it",
                              wlcf->rest_file, wlcf->rest_line, pass,
                              olen, origin);
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/*
 * A pass of what the module fetches for itself: a location of the same
 * server, named exactly, internal, with a content handler.
 */

static ngx_int_t
ngx_http_webpubsub_check_pass(ngx_conf_t *cf, ngx_array_t *all,
    ngx_str_t *pass, const char *directive, u_char *file, ngx_uint_t line)
{
    const char                 *fix;
    ngx_http_core_loc_conf_t   *target;

    if (pass->len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "the directive in %s:%ui needs %s and its internal "
                      "location", file, line, directive);
        return NGX_ERROR;
    }

    target = ngx_http_webpubsub_rest_find(all, pass);

    if (target == NULL) {
        fix = "its server has no location of that name: add one, "
              "internal, with proxy_pass";

    } else if (!target->internal) {
        fix = "that location is not internal: add \"internal;\" to it";

    } else if (target->handler == NULL) {
        fix = "that location has no proxy_pass: add one";

    } else {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "%s \"%V\" (for the directive in %s:%ui): %s",
                  directive, pass, file, line, fix);

    return NGX_ERROR;
}


/* the location a subrequest to pass would be checked against, or NULL */

static ngx_http_core_loc_conf_t *
ngx_http_webpubsub_rest_find(ngx_array_t *all, ngx_str_t *pass)
{
    ngx_uint_t                  i;
    ngx_http_core_loc_conf_t  **clcfp;

    clcfp = all->elts;

    for (i = 0; i < all->nelts; i++) {
#if (NGX_PCRE)
        if (clcfp[i]->regex) {
            continue;
        }
#endif
        if (!clcfp[i]->named && clcfp[i]->name.len == pass->len
            && ngx_strncmp(clcfp[i]->name.data, pass->data, pass->len) == 0)
        {
            return clcfp[i];
        }
    }

    return NULL;
}


/* a location and every location inside it, once each */

static ngx_int_t
ngx_http_webpubsub_rest_locations(ngx_array_t *a,
    ngx_http_core_loc_conf_t *pclcf)
{
    ngx_http_core_loc_conf_t  **clcfp;

    clcfp = ngx_array_push(a);
    if (clcfp == NULL) {
        return NGX_ERROR;
    }

    *clcfp = pclcf;

    return ngx_http_webpubsub_rest_nested(a, pclcf);
}


/* the locations inside a server or a location, as nginx has sorted them */

static ngx_int_t
ngx_http_webpubsub_rest_nested(ngx_array_t *a,
    ngx_http_core_loc_conf_t *pclcf)
{
#if (NGX_PCRE)
    ngx_http_webpubsub_loc_t  **locp;
#endif

    if (pclcf->static_locations
        && ngx_http_webpubsub_rest_tree(a, pclcf->static_locations) != NGX_OK)
    {
        return NGX_ERROR;
    }

#if (NGX_PCRE)
    if (pclcf->regex_locations) {
        for (locp = pclcf->regex_locations; *locp; locp++) {
            if (ngx_http_webpubsub_rest_locations(a,
                                             ngx_http_webpubsub_loc_conf(*locp))
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_webpubsub_rest_tree(ngx_array_t *a,
    ngx_http_location_tree_node_t *node)
{
    if (node == NULL) {
        return NGX_OK;
    }

    if (node->exact
        && ngx_http_webpubsub_rest_locations(a,
                                     ngx_http_webpubsub_loc_conf(node->exact))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (node->inclusive
        && ngx_http_webpubsub_rest_locations(a,
                                 ngx_http_webpubsub_loc_conf(node->inclusive))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_webpubsub_rest_tree(a, node->left) != NGX_OK
        || ngx_http_webpubsub_rest_tree(a, node->right) != NGX_OK
        || ngx_http_webpubsub_rest_tree(a, node->tree) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Where the call went, once it is over: NGX_DECLINED if it ran in the
 * location that was checked and the proxy there sent what was signed;
 * otherwise the caller's 500 is sent, and what sending it returned.
 */

ngx_int_t
ngx_http_webpubsub_rest_check_call(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_http_webpubsub_rest_t *rest)
{
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_webpubsub_loc_conf_t  *wlcf;

    wlcf = rest->conf;

    /*
     * Where the call went first: a location that was not checked (a
     * "return" in its rewrite phase answers before the precontent phase,
     * also after an error_page redirect from the checked one) or did not
     * proxy answers nothing the service said.
     */

    if (!rest->misrouted && rest->routed
        && sr->loc_conf != rest->routed_conf)
    {
        clcf = ngx_http_get_module_loc_conf(sr, ngx_http_core_module);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: %s: location \"%V\" of webpubsub_rest_pass "
                      "(of webpubsub_rest in %s:%ui) sent the call on to "
                      "location \"%V\", which answered it: remove the "
                      "error_page that does it",
                      rest->op->name, &wlcf->rest_pass, wlcf->rest_file,
                      wlcf->rest_line, &clcf->name);

        rest->misrouted = 1;
    }

    if (!rest->misrouted && !rest->routed
        && ngx_http_webpubsub_rest_check_route(sr, rest) == NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webpubsub: %s: location \"%V\" of webpubsub_rest_pass "
                      "(of webpubsub_rest in %s:%ui) answered before its "
                      "proxy_pass ran: remove \"return\" and \"rewrite\" "
                      "from it",
                      rest->op->name, &wlcf->rest_pass, wlcf->rest_file,
                      wlcf->rest_line);
    }

    if (rest->misrouted || !rest->routed) {
        return ngx_http_webpubsub_send_error(r,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         &ngx_http_webpubsub_rest_misrouted);
    }

    if (ngx_http_webpubsub_rest_check_proxy(sr, rest) != NGX_OK) {
        return ngx_http_webpubsub_send_error(r,
                                         NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         sr->upstream
                                         && sr->upstream->output.tag
                                            == (ngx_buf_tag_t)
                                               ngx_http_webpubsub_proxy_module
                                         ? &ngx_http_webpubsub_rest_rewritten
                                         : &ngx_http_webpubsub_rest_misrouted);
    }

    return NGX_DECLINED;
}
