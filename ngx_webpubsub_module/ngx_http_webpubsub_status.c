
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * webpubsub_status: what the module did, counted by every worker in one
 * shared memory zone with atomic adds (no lock on any request's path),
 * answered as Prometheus text (format 0.0.4) or, with ?format=json, as
 * JSON.  The zone exists only while a webpubsub_status location is
 * configured: without one, a count is a test of a NULL pointer.  A
 * reload keeps the zone, and with it the counters and their start time.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webpubsub_module.h"
#include "ngx_http_webpubsub_status.h"


/*
 * The latency sums in microseconds: 64 bits even where ngx_atomic_t has
 * 32, with the compiler's atomics (gcc 4.7, clang 3.1); a compiler
 * without them on a 32-bit system gets sums that wrap at 2^32.
 */
#if (defined __ATOMIC_RELAXED)

typedef uint64_t               ngx_http_webpubsub_sum_t;

#define ngx_http_webpubsub_sum_add(p, v)                                     \
    (void) __atomic_fetch_add(p, v, __ATOMIC_RELAXED)
#define ngx_http_webpubsub_sum_get(p)  __atomic_load_n(p, __ATOMIC_RELAXED)

#else

typedef ngx_atomic_t           ngx_http_webpubsub_sum_t;

#define ngx_http_webpubsub_sum_add(p, v)                                     \
    (void) ngx_atomic_fetch_add(p, (ngx_atomic_int_t) (v))
#define ngx_http_webpubsub_sum_get(p)  (*(p))

#endif


/*
 * No layout mark: a zone is only kept across a reload with the same tag
 * (the module's address) and size, and a reload cannot load another
 * build of the module at an address the old one still holds.
 */

typedef struct {
    ngx_http_webpubsub_sum_t   sum[NGX_WEBPUBSUB_REST_NOPS];
    time_t                     start;       /* when the counters were 0 */
    ngx_atomic_t               c[NGX_HTTP_WEBPUBSUB_COUNTERS];
} ngx_http_webpubsub_status_sh_t;


/* a family of counters with one or two labels */
typedef struct {
    const char                *name;
    const char                *help;
    const char                *json;
    ngx_uint_t                 base;
    const char                *label;
    const char               **values;
    const char                *label2;      /* NULL: one label */
    const char               **values2;
    ngx_uint_t                 sparse;      /* rows of 0 left out */
} ngx_http_webpubsub_family_t;


static ngx_int_t ngx_http_webpubsub_status_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_webpubsub_status_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_webpubsub_status_n(const char **values);
static ngx_uint_t ngx_http_webpubsub_status_zero(ngx_atomic_t *c,
    ngx_uint_t n);
static u_char *ngx_http_webpubsub_status_prometheus(u_char *p, u_char *last,
    ngx_http_webpubsub_status_sh_t *sh);
static u_char *ngx_http_webpubsub_status_json(u_char *p, u_char *last,
    ngx_http_webpubsub_status_sh_t *sh);
static u_char *ngx_http_webpubsub_status_prom_family(u_char *p, u_char *last,
    ngx_atomic_t *c, ngx_http_webpubsub_family_t *f);
static u_char *ngx_http_webpubsub_status_json_family(u_char *p, u_char *last,
    ngx_atomic_t *c, ngx_http_webpubsub_family_t *f);
static u_char *ngx_http_webpubsub_status_seconds(u_char *p, u_char *last,
    uint64_t us);
static void ngx_http_webpubsub_count_mark(void *data);


ngx_atomic_t  *ngx_http_webpubsub_counters;

static ngx_http_webpubsub_status_sh_t  *ngx_http_webpubsub_status_sh;


static ngx_str_t  ngx_http_webpubsub_status_zone_name =
    ngx_string("webpubsub_status");

static ngx_str_t  ngx_http_webpubsub_prometheus_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");

static ngx_str_t  ngx_http_webpubsub_status_json_type =
    ngx_string("application/json");


/* the bounds of the latency buckets, in microseconds and as "le" */

static const ngx_atomic_uint_t  ngx_http_webpubsub_bounds[] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000
};

static const char  *ngx_http_webpubsub_le[] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
    "0.5", "1", "2.5", "5", "10", "+Inf", NULL
};


static const char  *ngx_http_webpubsub_hows[] = {
    "key", "service", NULL
};

static const char  *ngx_http_webpubsub_protocols[] = {
    "default", "mqtt", "socketio", NULL
};

static const char  *ngx_http_webpubsub_neg_reasons[] = {
    "method", "bad_hub", "too_long", "too_many_values", "no_service",
    "identity", "service", NULL
};

static const char  *ngx_http_webpubsub_hs_results[] = {
    "accepted", "refused", NULL
};

static const char  *ngx_http_webpubsub_event_types[] = {
    "connect", "connected", "disconnected", "user", NULL
};

static const char  *ngx_http_webpubsub_ev_reasons[] = {
    "method", "duplicate_header", "too_long", "missing_attribute",
    "malformed_attribute", "jwt_connection_id", "wrong_hub",
    "missing_signature", "bad_signature", "missing_bearer", "bad_bearer",
    "keys_unavailable", "stray", NULL
};

static const char  *ngx_http_webpubsub_rr_reasons[] = {
    "method", "content_type", "bad_hub", "bad_parameter", "misrouted",
    NULL
};

static const char  *ngx_http_webpubsub_fault_kinds[] = {
    "timeout", "unreachable", "bad_response", "5xx", "identity", NULL
};

static const char  *ngx_http_webpubsub_id_whats[] = {
    "token", "keys", NULL
};

static const char  *ngx_http_webpubsub_idf_reasons[] = {
    "timeout", "unreachable", "bad_status", "bad_response",
    "misconfigured", "internal", NULL
};

static const char  *ngx_http_webpubsub_classes[] = {
    "2xx", "3xx", "4xx", "5xx", "none", NULL
};

/* filled from the core's table of operations at the first answer */
static const char  *ngx_http_webpubsub_ops[NGX_WEBPUBSUB_REST_NOPS + 1];


static ngx_http_webpubsub_family_t  ngx_http_webpubsub_families[] = {

    { "webpubsub_tokens_issued_total",
      "Client access tokens made, by who signed them (key: this nginx "
      "with an access key; service: the service's generateToken with an "
      "Entra ID token) and client protocol.",
      "tokens_issued", NGX_HTTP_WEBPUBSUB_TOKENS,
      "how", ngx_http_webpubsub_hows,
      "protocol", ngx_http_webpubsub_protocols, 0 },

    { "webpubsub_negotiate_refused_total",
      "Negotiate requests answered without a token, by reason.",
      "negotiate_refused", NGX_HTTP_WEBPUBSUB_NEG_REFUSED,
      "reason", ngx_http_webpubsub_neg_reasons, NULL, NULL, 0 },

    { "webpubsub_handshakes_total",
      "Abuse-protection handshakes (OPTIONS) of the event handler "
      "gateway, by result.",
      "handshakes", NGX_HTTP_WEBPUBSUB_HANDSHAKES,
      "result", ngx_http_webpubsub_hs_results, NULL, NULL, 0 },

    { "webpubsub_events_accepted_total",
      "Webhook events the gateway passed on to the application, by type.",
      "events_accepted", NGX_HTTP_WEBPUBSUB_EVENTS,
      "type", ngx_http_webpubsub_event_types, NULL, NULL, 0 },

    { "webpubsub_events_refused_total",
      "Webhook requests the gateway refused, by reason.",
      "events_refused", NGX_HTTP_WEBPUBSUB_EV_REFUSED,
      "reason", ngx_http_webpubsub_ev_reasons, NULL, NULL, 0 },

    { "webpubsub_rest_requests_total",
      "REST calls made to the service, by operation and class of the "
      "service's status (none: no valid status line came).",
      "rest_requests", NGX_HTTP_WEBPUBSUB_REST_CALLS,
      "operation", ngx_http_webpubsub_ops,
      "status", ngx_http_webpubsub_classes, 1 },

    { "webpubsub_rest_refused_total",
      "REST requests the module answered itself without a call, by "
      "reason.",
      "rest_refused", NGX_HTTP_WEBPUBSUB_REST_REFUSED,
      "reason", ngx_http_webpubsub_rr_reasons, NULL, NULL, 0 },

    { "webpubsub_service_faults_total",
      "Faults of the service or of the way to it that the module "
      "answered with a 5xx (or passed on, for kind 5xx), by kind.",
      "service_faults", NGX_HTTP_WEBPUBSUB_FAULTS,
      "kind", ngx_http_webpubsub_fault_kinds, NULL, NULL, 0 },

    { "webpubsub_identity_fetches_total",
      "Fetches of Entra ID access tokens and signing keys made by this "
      "nginx.",
      "identity_fetches", NGX_HTTP_WEBPUBSUB_ID_FETCHES,
      "what", ngx_http_webpubsub_id_whats, NULL, NULL, 0 },

    { "webpubsub_identity_fetch_failures_total",
      "Fetches of Entra ID access tokens and signing keys that failed, by "
      "reason.",
      "identity_fetch_failures", NGX_HTTP_WEBPUBSUB_ID_FAILURES,
      "what", ngx_http_webpubsub_id_whats,
      "reason", ngx_http_webpubsub_idf_reasons, 0 },

    { NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0 }
};


/*
 * webpubsub_status; (location): the location answers the counters, and
 * the zone that holds them is made for this configuration.
 */

char *
ngx_http_webpubsub_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    size_t                     size;
    ngx_shm_zone_t            *zone;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_webpubsub_status_handler) {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "is duplicate: this location already has a content handler "
               "(proxy_pass, webpubsub_token, webpubsub_rest, ...)";
    }

    clcf->handler = ngx_http_webpubsub_status_handler;

    /* a size of the layout alone: a reload that keeps it keeps the zone */

    size = ngx_align(sizeof(ngx_http_webpubsub_status_sh_t), ngx_pagesize)
           + 8 * ngx_pagesize;

    zone = ngx_shared_memory_add(cf, &ngx_http_webpubsub_status_zone_name,
                                 size, &ngx_http_webpubsub_module);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->init = ngx_http_webpubsub_status_init_zone;

    return NGX_CONF_OK;
}


/*
 * In the master, before the workers start.  data is the zone's block of
 * the previous configuration when a reload keeps the zone (same module,
 * so same layout): the counters go on.
 */

static ngx_int_t
ngx_http_webpubsub_status_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t                 *shpool;
    ngx_http_webpubsub_status_sh_t  *sh;

    if (data != NULL) {
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        /* Windows: a worker attaches to the master's zone */
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_webpubsub_status_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, sizeof(ngx_http_webpubsub_status_sh_t));
    sh->start = ngx_time();

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


/*
 * For every configuration that succeeds (init_module: start, each reload
 * in the master or in single process mode, nginx -t), never for one that
 * fails: the counters of its zone, or NULL when it has none, before the
 * previous configuration's zone may be freed.  Workers inherit them.
 */

void
ngx_http_webpubsub_status_init_cycle(ngx_cycle_t *cycle)
{
    ngx_uint_t                       i;
    ngx_shm_zone_t                  *zone;
    ngx_list_part_t                 *part;
    ngx_http_webpubsub_status_sh_t  *sh;

    ngx_http_webpubsub_counters = NULL;
    ngx_http_webpubsub_status_sh = NULL;

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag != &ngx_http_webpubsub_module
            || zone[i].shm.name.len
               != ngx_http_webpubsub_status_zone_name.len
            || ngx_strncmp(zone[i].shm.name.data,
                           ngx_http_webpubsub_status_zone_name.data,
                           zone[i].shm.name.len)
               != 0)
        {
            continue;
        }

        sh = zone[i].data;

        if (sh != NULL) {
            ngx_http_webpubsub_status_sh = sh;
            ngx_http_webpubsub_counters = sh->c;
        }

        break;
    }
}


/*
 * 1 the first time for a main request, 0 after: a mark in the request's
 * pool, which outlives the module contexts that an internal redirect or
 * error_page clears.
 */

ngx_uint_t
ngx_http_webpubsub_count_first(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    if (r != r->main) {
        return 0;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_webpubsub_count_mark) {
            return 0;
        }
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        /* counted, at worst once more */
        return 1;
    }

    cln->handler = ngx_http_webpubsub_count_mark;

    return 1;
}


static void
ngx_http_webpubsub_count_mark(void *data)
{
    /* a mark only */
}


/*
 * A monotonic clock in microseconds for the REST calls' latency; 0, and
 * no system call, where nothing counts.
 */

uint64_t
ngx_http_webpubsub_clock(void)
{
#if (NGX_HAVE_CLOCK_MONOTONIC)
    struct timespec  ts;
#else
    struct timeval   tv;
#endif

    if (ngx_http_webpubsub_counters == NULL) {
        return 0;
    }

#if (NGX_HAVE_CLOCK_MONOTONIC)
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
#else
    ngx_gettimeofday(&tv);
    return (uint64_t) tv.tv_sec * 1000000 + tv.tv_usec;
#endif
}


/*
 * A REST call is over: its status class (status 0: no valid status line)
 * and its time since started, which is 0 if the counters came after it.
 */

void
ngx_http_webpubsub_count_call(const ngx_webpubsub_rest_op_t *op,
    ngx_uint_t status, uint64_t started)
{
    uint64_t       now;
    ngx_uint_t     i, k, cls;
    ngx_atomic_t  *c;

    c = ngx_http_webpubsub_counters;

    if (c == NULL) {
        return;
    }

    k = ngx_webpubsub_rest_op_index(op);

    if (k >= NGX_WEBPUBSUB_REST_NOPS) {
        return;
    }

    cls = (status >= 200 && status < 600) ? status / 100 - 2 : 4;

    (void) ngx_atomic_fetch_add(&c[NGX_HTTP_WEBPUBSUB_REST_CALLS
                                  + k * NGX_HTTP_WEBPUBSUB_CLASSES + cls], 1);

    if (status >= 500 && status < 600) {
        (void) ngx_atomic_fetch_add(&c[NGX_HTTP_WEBPUBSUB_FAULTS
                                       + NGX_HTTP_WEBPUBSUB_FAULT_5XX], 1);
    }

    if (started == 0) {
        return;
    }

    now = ngx_http_webpubsub_clock();
    now = (now > started) ? now - started : 0;

    for (i = 0; i < NGX_HTTP_WEBPUBSUB_BUCKETS - 1; i++) {
        if (now <= ngx_http_webpubsub_bounds[i]) {
            break;
        }
    }

    c += NGX_HTTP_WEBPUBSUB_REST_TIMES + k * NGX_HTTP_WEBPUBSUB_BUCKETS;

    (void) ngx_atomic_fetch_add(&c[i], 1);
    ngx_http_webpubsub_sum_add(&ngx_http_webpubsub_status_sh->sum[k], now);
}


/*
 * A fetch of an Entra token (what 0) or keys (1) that ended: counted
 * with its outcome, so that one its request gave up on counts nowhere.
 */

void
ngx_http_webpubsub_count_fetch_failure(ngx_uint_t what, ngx_uint_t reason)
{
    ngx_http_webpubsub_count(NGX_HTTP_WEBPUBSUB_ID_FAILURES
                             + what * NGX_HTTP_WEBPUBSUB_IDF_N + reason);
}


static ngx_int_t
ngx_http_webpubsub_status_handler(ngx_http_request_t *r)
{
    u_char                          *buf, *p, *last;
    size_t                           size;
    ngx_int_t                        rc;
    ngx_str_t                        format, *type;
    ngx_buf_t                       *b;
    ngx_uint_t                       i, json;
    ngx_chain_t                      out;
    const ngx_webpubsub_rest_op_t   *op;
    ngx_http_webpubsub_status_sh_t  *sh;

    static ngx_str_t  not_allowed = ngx_string("method not allowed");
    static ngx_str_t  bad_format =
        ngx_string("format must be \"prometheus\" or \"json\"");
    static ngx_str_t  no_zone = ngx_string("no counters in this process");

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_webpubsub_add_header(r, "Allow", "GET, HEAD")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_webpubsub_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                             &not_allowed);
    }

    json = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 4 && ngx_strncmp(format.data, "json", 4) == 0) {
            json = 1;

        } else if (format.len != 10
                   || ngx_strncmp(format.data, "prometheus", 10) != 0)
        {
            return ngx_http_webpubsub_send_error(r, NGX_HTTP_BAD_REQUEST,
                                                 &bad_format);
        }
    }

    if (ngx_http_webpubsub_status_sh == NULL) {
        /* not expected: the location's configuration made the zone */
        return ngx_http_webpubsub_send_error(r,
                                             NGX_HTTP_SERVICE_UNAVAILABLE,
                                             &no_zone);
    }

    if (ngx_http_webpubsub_ops[0] == NULL) {
        for (i = 0; i < NGX_WEBPUBSUB_REST_NOPS; i++) {
            op = ngx_webpubsub_rest_op_at(i);
            ngx_http_webpubsub_ops[i] = op ? op->name : "unknown";
        }
    }

    /* every line is far shorter than 256 bytes, and help lines are few */
    size = (NGX_HTTP_WEBPUBSUB_COUNTERS + 64) * 256;

    buf = ngx_pnalloc(r->pool, size);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = buf + size;

    sh = ngx_http_webpubsub_status_sh;

    p = json ? ngx_http_webpubsub_status_json(buf, last, sh)
             : ngx_http_webpubsub_status_prometheus(buf, last, sh);

    if (p == last) {
        /* cut short: not sent as if it were whole */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "webpubsub: the status answer exceeds %uz bytes",
                      size);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = buf;
    b->last = p;
    b->memory = 1;

    out.buf = b;
    out.next = NULL;

    type = json ? &ngx_http_webpubsub_status_json_type
                : &ngx_http_webpubsub_prometheus_type;

    return ngx_http_webpubsub_send(r, NGX_HTTP_OK, type, &out, p - buf);
}


static u_char *
ngx_http_webpubsub_status_prometheus(u_char *p, u_char *last,
    ngx_http_webpubsub_status_sh_t *sh)
{
    uint64_t                      sum;
    ngx_uint_t                    i, k;
    ngx_atomic_t                 *t;
    ngx_atomic_uint_t             n;
    ngx_http_webpubsub_family_t  *f;

    p = ngx_slprintf(p, last,
            "# HELP webpubsub_info The release of ngx_http_webpubsub_module."
            "\n# TYPE webpubsub_info gauge\n"
            "webpubsub_info{version=\"" NGX_HTTP_WEBPUBSUB_VERSION "\"} 1\n"
            "# HELP webpubsub_start_time_seconds Unix time when these "
            "counters started from zero.\n"
            "# TYPE webpubsub_start_time_seconds gauge\n"
            "webpubsub_start_time_seconds %T\n", sh->start);

    for (f = ngx_http_webpubsub_families; f->name; f++) {
        p = ngx_http_webpubsub_status_prom_family(p, last, sh->c, f);
    }

    p = ngx_slprintf(p, last,
            "# HELP webpubsub_rest_duration_seconds Time of REST calls, "
            "from the subrequest's start to the service's answer, by "
            "operation.\n"
            "# TYPE webpubsub_rest_duration_seconds histogram\n");

    for (k = 0; k < NGX_WEBPUBSUB_REST_NOPS; k++) {
        t = &sh->c[NGX_HTTP_WEBPUBSUB_REST_TIMES
                   + k * NGX_HTTP_WEBPUBSUB_BUCKETS];

        if (ngx_http_webpubsub_status_zero(t, NGX_HTTP_WEBPUBSUB_BUCKETS)) {
            continue;
        }

        /* _count is the +Inf bucket: the two can never disagree */

        n = 0;

        for (i = 0; i < NGX_HTTP_WEBPUBSUB_BUCKETS; i++) {
            n += t[i];
            p = ngx_slprintf(p, last,
                             "webpubsub_rest_duration_seconds_bucket"
                             "{operation=\"%s\",le=\"%s\"} %uA\n",
                             ngx_http_webpubsub_ops[k],
                             ngx_http_webpubsub_le[i], n);
        }

        p = ngx_slprintf(p, last, "webpubsub_rest_duration_seconds_sum"
                                  "{operation=\"%s\"} ",
                         ngx_http_webpubsub_ops[k]);
        sum = ngx_http_webpubsub_sum_get(&sh->sum[k]);
        p = ngx_http_webpubsub_status_seconds(p, last, sum);
        p = ngx_slprintf(p, last, "\nwebpubsub_rest_duration_seconds_count"
                                  "{operation=\"%s\"} %uA\n",
                         ngx_http_webpubsub_ops[k], n);
    }

    return p;
}


/* HELP, TYPE and a line per label value (or pair of them) */

static u_char *
ngx_http_webpubsub_status_prom_family(u_char *p, u_char *last,
    ngx_atomic_t *c, ngx_http_webpubsub_family_t *f)
{
    ngx_uint_t     i, j, n2;
    ngx_atomic_t  *row;

    p = ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s counter\n",
                     f->name, f->help, f->name);

    n2 = f->label2 ? ngx_http_webpubsub_status_n(f->values2) : 1;

    for (i = 0; f->values[i]; i++) {
        row = &c[f->base + i * n2];

        if (f->sparse && ngx_http_webpubsub_status_zero(row, n2)) {
            continue;
        }

        if (f->label2 == NULL) {
            p = ngx_slprintf(p, last, "%s{%s=\"%s\"} %uA\n", f->name,
                             f->label, f->values[i], row[0]);
            continue;
        }

        for (j = 0; j < n2; j++) {
            p = ngx_slprintf(p, last, "%s{%s=\"%s\",%s=\"%s\"} %uA\n",
                             f->name, f->label, f->values[i], f->label2,
                             f->values2[j], row[j]);
        }
    }

    return p;
}


static u_char *
ngx_http_webpubsub_status_json(u_char *p, u_char *last,
    ngx_http_webpubsub_status_sh_t *sh)
{
    uint64_t                      sum;
    ngx_uint_t                    i, k, first;
    ngx_atomic_t                 *t;
    ngx_atomic_uint_t             n;
    ngx_http_webpubsub_family_t  *f;

    p = ngx_slprintf(p, last, "{\"version\":\"" NGX_HTTP_WEBPUBSUB_VERSION
                              "\",\"start_time\":%T", sh->start);

    for (f = ngx_http_webpubsub_families; f->name; f++) {
        p = ngx_http_webpubsub_status_json_family(p, last, sh->c, f);
    }

    p = ngx_slprintf(p, last, ",\"rest_duration_seconds\":{");
    first = 1;

    for (k = 0; k < NGX_WEBPUBSUB_REST_NOPS; k++) {
        t = &sh->c[NGX_HTTP_WEBPUBSUB_REST_TIMES
                   + k * NGX_HTTP_WEBPUBSUB_BUCKETS];

        if (ngx_http_webpubsub_status_zero(t, NGX_HTTP_WEBPUBSUB_BUCKETS)) {
            continue;
        }

        p = ngx_slprintf(p, last, "%s\"%s\":{\"buckets\":{",
                         first ? "" : ",", ngx_http_webpubsub_ops[k]);
        first = 0;
        n = 0;

        for (i = 0; i < NGX_HTTP_WEBPUBSUB_BUCKETS; i++) {
            n += t[i];
            p = ngx_slprintf(p, last, "%s\"%s\":%uA", i ? "," : "",
                             ngx_http_webpubsub_le[i], n);
        }

        p = ngx_slprintf(p, last, "},\"sum\":");
        sum = ngx_http_webpubsub_sum_get(&sh->sum[k]);
        p = ngx_http_webpubsub_status_seconds(p, last, sum);
        p = ngx_slprintf(p, last, ",\"count\":%uA}", n);
    }

    return ngx_slprintf(p, last, "}}\n");
}


/* "json_key":{"value":n,...} or, with two labels, an object per value */

static u_char *
ngx_http_webpubsub_status_json_family(u_char *p, u_char *last,
    ngx_atomic_t *c, ngx_http_webpubsub_family_t *f)
{
    ngx_uint_t     i, j, n2, first;
    ngx_atomic_t  *row;

    p = ngx_slprintf(p, last, ",\"%s\":{", f->json);

    n2 = f->label2 ? ngx_http_webpubsub_status_n(f->values2) : 1;
    first = 1;

    for (i = 0; f->values[i]; i++) {
        row = &c[f->base + i * n2];

        if (f->sparse && ngx_http_webpubsub_status_zero(row, n2)) {
            continue;
        }

        p = ngx_slprintf(p, last, "%s\"%s\":", first ? "" : ",",
                         f->values[i]);
        first = 0;

        if (f->label2 == NULL) {
            p = ngx_slprintf(p, last, "%uA", row[0]);
            continue;
        }

        for (j = 0; j < n2; j++) {
            p = ngx_slprintf(p, last, "%s\"%s\":%uA", j ? "," : "{",
                             f->values2[j], row[j]);
        }

        p = ngx_slprintf(p, last, "}");
    }

    return ngx_slprintf(p, last, "}");
}


/* microseconds as seconds, "0.001234" */

static u_char *
ngx_http_webpubsub_status_seconds(u_char *p, u_char *last, uint64_t us)
{
    return ngx_slprintf(p, last, "%uL.%06uL", us / 1000000, us % 1000000);
}


static ngx_uint_t
ngx_http_webpubsub_status_n(const char **values)
{
    ngx_uint_t  n;

    for (n = 0; values[n]; n++) {
        /* void */
    }

    return n;
}


static ngx_uint_t
ngx_http_webpubsub_status_zero(ngx_atomic_t *c, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (c[i] != 0) {
            return 0;
        }
    }

    return 1;
}
