
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * The module's counters: one shared memory zone for all workers, made
 * when a "webpubsub_status" location is configured, and the handler of
 * that location, which answers them as Prometheus text or JSON.  Without
 * such a location there is no zone and every count below is a test of a
 * NULL pointer.
 *
 * The counters are ngx_atomic_t: 64 bits on 64-bit systems, 32 bits on
 * 32-bit ones (i386, armhf), where they wrap at 2^32, which Prometheus
 * takes for a reset.  The histograms' sums of microseconds would wrap
 * there after 72 minutes of calls: they are 64 bits everywhere.
 */


#ifndef _NGX_HTTP_WEBPUBSUB_STATUS_H_INCLUDED_
#define _NGX_HTTP_WEBPUBSUB_STATUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_webpubsub_rest.h"


/* negotiate: how a token was made, then its client protocol */
#define NGX_HTTP_WEBPUBSUB_ST_KEY            0    /* signed with a key */
#define NGX_HTTP_WEBPUBSUB_ST_SERVICE        1    /* :generateToken */
#define NGX_HTTP_WEBPUBSUB_ST_PROTOCOLS      3

/* negotiate refused, by reason */
enum {
    NGX_HTTP_WEBPUBSUB_NEG_METHOD = 0,
    NGX_HTTP_WEBPUBSUB_NEG_BAD_HUB,
    NGX_HTTP_WEBPUBSUB_NEG_TOO_LONG,
    NGX_HTTP_WEBPUBSUB_NEG_TOO_MANY,
    NGX_HTTP_WEBPUBSUB_NEG_NO_SERVICE,
    NGX_HTTP_WEBPUBSUB_NEG_IDENTITY,
    NGX_HTTP_WEBPUBSUB_NEG_SERVICE,
    NGX_HTTP_WEBPUBSUB_NEG_N
};

/* abuse-protection handshakes */
enum {
    NGX_HTTP_WEBPUBSUB_HS_ACCEPTED = 0,
    NGX_HTTP_WEBPUBSUB_HS_REFUSED,
    NGX_HTTP_WEBPUBSUB_HS_N
};

/* events passed on to the application, by type */
enum {
    NGX_HTTP_WEBPUBSUB_EVT_CONNECT = 0,
    NGX_HTTP_WEBPUBSUB_EVT_CONNECTED,
    NGX_HTTP_WEBPUBSUB_EVT_DISCONNECTED,
    NGX_HTTP_WEBPUBSUB_EVT_USER,
    NGX_HTTP_WEBPUBSUB_EVT_N
};

/* webhooks refused, by the gateway's reason (ev->refused) */
enum {
    NGX_HTTP_WEBPUBSUB_REF_METHOD = 0,
    NGX_HTTP_WEBPUBSUB_REF_DUPLICATE,       /* a CloudEvents header twice */
    NGX_HTTP_WEBPUBSUB_REF_TOO_LONG,        /* attributes, signatures */
    NGX_HTTP_WEBPUBSUB_REF_MISSING,         /* a required attribute */
    NGX_HTTP_WEBPUBSUB_REF_MALFORMED,       /* versions, ce-type */
    NGX_HTTP_WEBPUBSUB_REF_JWT_ID,          /* a connection id like a JWT */
    NGX_HTTP_WEBPUBSUB_REF_WRONG_HUB,
    NGX_HTTP_WEBPUBSUB_REF_NO_SIGNATURE,
    NGX_HTTP_WEBPUBSUB_REF_BAD_SIGNATURE,
    NGX_HTTP_WEBPUBSUB_REF_NO_BEARER,
    NGX_HTTP_WEBPUBSUB_REF_BAD_BEARER,
    NGX_HTTP_WEBPUBSUB_REF_NO_KEYS,         /* the tenant's keys unfetched */
    NGX_HTTP_WEBPUBSUB_REF_STRAY,           /* outside the gateway */
    NGX_HTTP_WEBPUBSUB_REF_N
};

/* REST calls the module refused to make */
enum {
    NGX_HTTP_WEBPUBSUB_RR_METHOD = 0,
    NGX_HTTP_WEBPUBSUB_RR_CONTENT_TYPE,
    NGX_HTTP_WEBPUBSUB_RR_BAD_HUB,
    NGX_HTTP_WEBPUBSUB_RR_BAD_PARAMETER,
    NGX_HTTP_WEBPUBSUB_RR_MISROUTED,
    NGX_HTTP_WEBPUBSUB_RR_N
};

/* faults of the service or of the way to it, as the module answers them */
enum {
    NGX_HTTP_WEBPUBSUB_FAULT_TIMEOUT = 0,   /* 504 */
    NGX_HTTP_WEBPUBSUB_FAULT_UNREACHABLE,   /* 502: no status line */
    NGX_HTTP_WEBPUBSUB_FAULT_BAD_RESPONSE,  /* 502: an unusable answer */
    NGX_HTTP_WEBPUBSUB_FAULT_5XX,           /* the service said 5xx */
    NGX_HTTP_WEBPUBSUB_FAULT_IDENTITY,      /* no Entra token or keys */
    NGX_HTTP_WEBPUBSUB_FAULT_N
};

/* Entra ID fetches: what, and why one failed */
#define NGX_HTTP_WEBPUBSUB_ID_TOKEN          0
#define NGX_HTTP_WEBPUBSUB_ID_KEYS           1
#define NGX_HTTP_WEBPUBSUB_ID_N              2

enum {
    NGX_HTTP_WEBPUBSUB_IDF_TIMEOUT = 0,
    NGX_HTTP_WEBPUBSUB_IDF_UNREACHABLE,
    NGX_HTTP_WEBPUBSUB_IDF_BAD_STATUS,
    NGX_HTTP_WEBPUBSUB_IDF_BAD_RESPONSE,
    NGX_HTTP_WEBPUBSUB_IDF_MISCONFIGURED,   /* the location, a file */
    NGX_HTTP_WEBPUBSUB_IDF_INTERNAL,        /* out of memory */
    NGX_HTTP_WEBPUBSUB_IDF_N
};

/* a REST call's answer: the class of its status, or none */
#define NGX_HTTP_WEBPUBSUB_CLASSES           5

/* the latency histogram's finite bounds, then +Inf */
#define NGX_HTTP_WEBPUBSUB_BUCKETS           14


/* where each family starts in the zone's array of counters */
enum {
    NGX_HTTP_WEBPUBSUB_TOKENS = 0,
    NGX_HTTP_WEBPUBSUB_NEG_REFUSED = NGX_HTTP_WEBPUBSUB_TOKENS
        + 2 * NGX_HTTP_WEBPUBSUB_ST_PROTOCOLS,
    NGX_HTTP_WEBPUBSUB_HANDSHAKES = NGX_HTTP_WEBPUBSUB_NEG_REFUSED
        + NGX_HTTP_WEBPUBSUB_NEG_N,
    NGX_HTTP_WEBPUBSUB_EVENTS = NGX_HTTP_WEBPUBSUB_HANDSHAKES
        + NGX_HTTP_WEBPUBSUB_HS_N,
    NGX_HTTP_WEBPUBSUB_EV_REFUSED = NGX_HTTP_WEBPUBSUB_EVENTS
        + NGX_HTTP_WEBPUBSUB_EVT_N,
    NGX_HTTP_WEBPUBSUB_REST_REFUSED = NGX_HTTP_WEBPUBSUB_EV_REFUSED
        + NGX_HTTP_WEBPUBSUB_REF_N,
    NGX_HTTP_WEBPUBSUB_FAULTS = NGX_HTTP_WEBPUBSUB_REST_REFUSED
        + NGX_HTTP_WEBPUBSUB_RR_N,
    NGX_HTTP_WEBPUBSUB_ID_FETCHES = NGX_HTTP_WEBPUBSUB_FAULTS
        + NGX_HTTP_WEBPUBSUB_FAULT_N,
    NGX_HTTP_WEBPUBSUB_ID_FAILURES = NGX_HTTP_WEBPUBSUB_ID_FETCHES
        + NGX_HTTP_WEBPUBSUB_ID_N,
    NGX_HTTP_WEBPUBSUB_REST_CALLS = NGX_HTTP_WEBPUBSUB_ID_FAILURES
        + NGX_HTTP_WEBPUBSUB_ID_N * NGX_HTTP_WEBPUBSUB_IDF_N,
    /* per operation: the buckets (not cumulative); the sums are apart */
    NGX_HTTP_WEBPUBSUB_REST_TIMES = NGX_HTTP_WEBPUBSUB_REST_CALLS
        + NGX_WEBPUBSUB_REST_NOPS * NGX_HTTP_WEBPUBSUB_CLASSES,
    NGX_HTTP_WEBPUBSUB_COUNTERS = NGX_HTTP_WEBPUBSUB_REST_TIMES
        + NGX_WEBPUBSUB_REST_NOPS * NGX_HTTP_WEBPUBSUB_BUCKETS
};


/* the zone's counters in this worker, NULL where no location shows them */
extern ngx_atomic_t  *ngx_http_webpubsub_counters;


#define ngx_http_webpubsub_count(i)                                          \
    do {                                                                      \
        if (ngx_http_webpubsub_counters != NULL) {                            \
            (void) ngx_atomic_fetch_add(&ngx_http_webpubsub_counters[i], 1); \
        }                                                                     \
    } while (0)

/*
 * events: once per main request (not a mirror's copy of it, and not again
 * in another gateway location after error_page or an internal redirect)
 */
#define ngx_http_webpubsub_count_main(r, i)                                  \
    do {                                                                      \
        if (ngx_http_webpubsub_counters != NULL                               \
            && ngx_http_webpubsub_count_first(r))                             \
        {                                                                     \
            ngx_http_webpubsub_count(i);                                      \
        }                                                                     \
    } while (0)


char *ngx_http_webpubsub_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_webpubsub_status_init_cycle(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_webpubsub_count_first(ngx_http_request_t *r);

uint64_t ngx_http_webpubsub_clock(void);
void ngx_http_webpubsub_count_call(const ngx_webpubsub_rest_op_t *op,
    ngx_uint_t status, uint64_t started);
void ngx_http_webpubsub_count_fetch_failure(ngx_uint_t what,
    ngx_uint_t reason);


#endif /* _NGX_HTTP_WEBPUBSUB_STATUS_H_INCLUDED_ */
